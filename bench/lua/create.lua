-- POST BENCH_PATH with a JSON body of a new item. The sku is unique per
-- request: "w<BENCH_NONCE>-<thread>-<counter>" (bench/run.sh gives each wrk run its own nonce), so runs and threads never
-- collide and bench/run.sh can count the rows a run created.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local head, nonce, n

function init(args)
  local extra = bench_extra_headers()
  nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
  head = "POST " .. os.getenv("BENCH_PATH") .. " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
         "\r\n" .. extra .. "Content-Type: application/json\r\nContent-Length: "
  n = 0
end

function request()
  n = n + 1
  local body = string.format(
    '{"name":"Bench item %d-%d","sku":"w%s-%d-%d","category":"c%02d","price":%d.%02d,' ..
    '"qty":%d,"active":%s,"description":"Created by bench/run.sh","created_day":"2025-%02d-%02d"}',
    tid, n, nonce, tid, n, n % 20, n % 1000, n % 100, n % 500, (n % 3 ~= 0) and "true" or "false",
    1 + n % 12, 1 + n % 28)
  return head .. #body .. "\r\n\r\n" .. body
end
