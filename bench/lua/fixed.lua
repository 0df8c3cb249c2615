-- One fixed GET (BENCH_PATH), pre-built once: nginx's static files and the
-- restd list query. request() returns the same string every time, so wrk
-- does the same per-request Lua work here as in get_by_id.lua.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local req

function init(args)
  bench_extra_headers()
  req = wrk.format("GET", os.getenv("BENCH_PATH"))
end

function request()
  return req
end
