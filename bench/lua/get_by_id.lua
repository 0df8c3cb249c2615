-- GET BENCH_PATH<id> with ids taken in a shuffled order from BENCH_IDS (one
-- id a line). All requests are built in init, so request() only indexes a
-- table.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local reqs, n, i

function init(args)
  bench_extra_headers()
  local f = assert(io.open(os.getenv("BENCH_IDS"), "r"))
  local ids = {}
  for line in f:lines() do
    if #line > 0 then ids[#ids + 1] = line end
  end
  f:close()
  assert(#ids > 0, "no ids in " .. os.getenv("BENCH_IDS"))
  math.randomseed(os.time() + 7919 * (tid or 1))
  for k = #ids, 2, -1 do
    local j = math.random(k)
    ids[k], ids[j] = ids[j], ids[k]
  end
  local prefix = os.getenv("BENCH_PATH")
  reqs = {}
  for k = 1, #ids do reqs[k] = wrk.format("GET", prefix .. ids[k]) end
  n, i = #reqs, 0
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
