dofile("bench/wrk/common.lua")
request = function()
  return wrk.format("GET", "/api/v1/points/user/" .. next_user_id() .. "/total")
end
