-- GET BENCH_PATH with "{id}" replaced by each line of BENCH_IDS in turn
-- (bench/kitsu.sh: one project id a line, so the requests go round every
-- project). All requests are built in init, so request() only indexes a
-- table, as in get_by_id.lua.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local reqs, n, i

function init(args)
  bench_extra_headers()
  local tpl = os.getenv("BENCH_PATH")
  assert(tpl:find("{id}", 1, true), "BENCH_PATH has no {id}: " .. tpl)
  local f = assert(io.open(os.getenv("BENCH_IDS"), "r"))
  reqs = {}
  for line in f:lines() do
    if #line > 0 then
      local path = tpl:gsub("{id}", function() return line end)
      reqs[#reqs + 1] = wrk.format("GET", path)
    end
  end
  f:close()
  assert(#reqs > 0, "no ids in " .. os.getenv("BENCH_IDS"))
  n = #reqs
  i = (tid or 1) * 7 % n  -- threads start at different ids
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
