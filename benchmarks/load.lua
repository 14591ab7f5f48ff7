-- wrk script for `make bench`: many signed-in gardeners. Each request takes the next path and,
-- every full round of paths, the next gardener's session cookie; each thread starts elsewhere in
-- the rotation. Arguments (after --): a file of Cookie header values, a file of paths.
-- done() prints one JSON line: requests, seconds, latency percentiles (ms) and errors
-- (socket errors, timeouts and every answer that is not 200).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local cookies, paths = {}, {}
local counter = 0
not200 = 0

function init(args)
  for line in io.lines(args[1]) do if #line > 0 then table.insert(cookies, line) end end
  for line in io.lines(args[2]) do if #line > 0 then table.insert(paths, line) end end
  counter = id * 7919
end

function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  local cookie = cookies[(math.floor(counter / #paths) % #cookies) + 1]
  return wrk.format("GET", path, {["Cookie"] = cookie, ["HX-Request"] = "true"})
end

function response(status, headers, body)
  if status ~= 200 then not200 = not200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("not200") or 0) end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, ' ..
    '"not_200": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad, e.connect, e.read, e.write, e.timeout))
end
