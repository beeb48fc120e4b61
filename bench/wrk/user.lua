dofile("bench/wrk/common.lua")
request = function()
  return wrk.format("GET", "/api/v1/users/" .. next_user_id())
end
