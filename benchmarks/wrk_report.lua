-- wrk's summary of one run as a single JSON line, read by benchmarks/pages.py.
-- Latencies are in microseconds. wrk itself counts only statuses >= 400 as errors
-- ("Non-2xx or 3xx responses"), so each thread also counts every answer that is not a
-- 200: a redirect to /login mid-run must not be reported as a fast page.

local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  not_200 = 0
  first_other_status = 0
end

response = function(status, headers, body)
  if status ~= 200 then
    not_200 = not_200 + 1
    if first_other_status == 0 then
      first_other_status = status
    end
  end
end

done = function(summary, latency, requests)
  local other, other_status = 0, 0
  for _, thread in ipairs(threads) do
    other = other + thread:get("not_200")
    local status = thread:get("first_other_status")
    if other_status == 0 and status ~= 0 then
      other_status = status
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "bytes": %d, "duration_us": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx_3xx": %d, "not_200": %d, "other_status": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.bytes, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.status, other, other_status,
    errors.connect, errors.read, errors.write, errors.timeout
  ))
end
