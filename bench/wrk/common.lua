-- Shared by the request scripts: ids spread over the seeded users 1..100 (or every request for the user BENCH_ONE_USER names),
-- and one JSON line of results at the end.
local counter = math.random(0, 99)
local one_user = tonumber(os.getenv("BENCH_ONE_USER") or "")

function next_user_id()
  if one_user then
    return one_user
  end
  counter = counter + 1
  return (counter % 100) + 1
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.2f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, errors))
end
