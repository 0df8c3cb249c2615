-- Shared by the wrk scripts of bench/run.sh (loaded with dofile by each one).
--
-- wrk loads a script once into its main Lua state and once into each
-- thread's state. setup() runs in the main state for each thread and gives
-- it a number (global `tid` in that thread); done() runs in the main state
-- after the run and prints one parseable line:
--
--   BENCH workload=NAME requests=N duration_s=S rps=R p50_ms=.. p90_ms=..
--         p99_ms=.. max_ms=.. non2xx=N connect_err=N read_err=N
--         write_err=N timeouts=N bytes=N check=strict|ge400
--
-- non2xx: with BENCH_STRICT=1 a response() hook counts every status outside
-- 200-299 (check=strict). That hook makes wrk parse every response's headers
-- into Lua, about 1 us of wrk CPU per request, and wrk runs near one full
-- core here, so bench/run.sh uses it for the warm-up runs only; the counted
-- runs use wrk's own status-error counter, responses with status >= 400
-- (check=ge400), which costs nothing.
--
-- Environment (set by bench/run.sh): BENCH_NAME, BENCH_PATH, BENCH_STRICT,
-- BENCH_AUTH (optional Authorization header value added to every request).

local threads = {}
local strict = os.getenv("BENCH_STRICT") == "1"

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
end

if strict then
  bad_status = 0   -- global: read by done() through thread:get
  function response(status, headers, body)
    if status < 200 or status > 299 then bad_status = bad_status + 1 end
  end
end

-- Headers every request carries, as "Name: value\r\n" lines (after Host).
function bench_extra_headers()
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
    return "Authorization: " .. auth .. "\r\n"
  end
  return ""
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  local non2xx = e.status
  if strict then
    non2xx = 0
    for _, t in ipairs(threads) do non2xx = non2xx + (t:get("bad_status") or 0) end
  end
  io.write(string.format(
    "BENCH workload=%s requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f " ..
    "p99_ms=%.3f max_ms=%.3f non2xx=%d connect_err=%d read_err=%d write_err=%d " ..
    "timeouts=%d bytes=%d check=%s\n",
    os.getenv("BENCH_NAME") or "unnamed", summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    non2xx, e.connect, e.read, e.write, e.timeout, summary.bytes, strict and "strict" or "ge400"))
end
