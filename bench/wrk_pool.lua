-- wrk script: send the requests of a pre-made pool (bench/http_pages.py writes it).
--
-- BENCH_POOL     a Lua file returning { {method=, path=, cookie=, body=}, ... }
-- BENCH_THREADS  wrk's -t (thread k sends entries k+1, k+1+T, k+1+2T, ...)
-- BENCH_ONCE=1   each entry may be sent only once (a submission needs its own open attempt);
--                when a thread runs out it starts over and counts the repeats, which done()
--                prints as "pool repeats: N" so the harness can flag the figure.
-- BENCH_UA       the User-Agent the sessions were made with

local pool = dofile(os.getenv("BENCH_POOL"))
local step = tonumber(os.getenv("BENCH_THREADS"))
local once = os.getenv("BENCH_ONCE") == "1"
local agent = os.getenv("BENCH_UA") or "hocvuso-bench"
local threads = {}
local created = 0

function setup(thread)
  thread:set("first", created + 1)
  created = created + 1
  table.insert(threads, thread)
end

local position = nil
repeats = 0

function request()
  if position == nil then position = first end
  if position > #pool then
    position = ((position - 1) % #pool) + 1
    if once then repeats = repeats + 1 end
  end
  local entry = pool[position]
  position = position + step
  local headers = { ["Cookie"] = entry.cookie, ["User-Agent"] = agent }
  if entry.body then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(entry.method, entry.path, headers, entry.body)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (tonumber(thread:get("repeats")) or 0)
  end
  io.write(string.format("pool repeats: %d\n", total))
end
