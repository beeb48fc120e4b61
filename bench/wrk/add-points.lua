dofile("bench/wrk/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = string.format('{"userId":%d,"points":%d,"reason":"benchmark"}', next_user_id(), math.random(1, 50))
  return wrk.format(nil, "/api/v1/points", nil, body)
end
