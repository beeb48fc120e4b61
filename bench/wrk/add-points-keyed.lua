-- POST /api/v1/points as add-points.lua does, each with a fresh Idempotency-Key: unique per thread (setup numbers
-- the threads), per request (a counter) and per run (the start time), so every request stores a new record.
dofile("bench/wrk/common.lua")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local run = os.time()
local sent = 0
local headers = { ["Content-Type"] = "application/json" }
request = function()
  sent = sent + 1
  headers["Idempotency-Key"] = string.format("bench-%d-%d-%d", run, thread_id, sent)
  local body = string.format('{"userId":%d,"points":%d,"reason":"benchmark"}', next_user_id(), math.random(1, 50))
  return wrk.format("POST", "/api/v1/points", headers, body)
end
