-- wrk script for bench/token: POST pre-signed token requests, each body exactly once.
--
-- Configuration comes from the environment, not from `-- args`, because whether delay() exists
-- must be known when wrk loads the script (before init() runs), and defining it costs a timer
-- per request even when it returns 0:
--   BENCH_BODIES   file with one urlencoded request body per line (grants.py sign)
--   BENCH_THREADS  must equal wrk's -t; thread k sends lines k, k+T, k+2T, ... so no line is
--                  sent twice across threads
--   BENCH_PATH     request path (default /token)
--   BENCH_RATE     0 or unset: closed loop (every connection sends as soon as its previous
--                  response arrived; measures the maximum rate).
--                  > 0: open loop at this many requests/s in total (see delay() below).
--
-- done() prints one machine-readable line for run.sh:
--   BENCHRESULT requests=.. ok=.. non200=.. bad200=.. duration_s=.. rps=.. ok_rps=.. p50_ms=..
--               p90_ms=.. p99_ms=.. max_ms=.. exhausted=.. late=.. max_late_ms=.. statuses=..
-- and the first error body it saw, so a run with failures explains itself.

local bodies_file = os.getenv("BENCH_BODIES")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local path = os.getenv("BENCH_PATH") or "/token"
local rate = tonumber(os.getenv("BENCH_RATE") or "0")

-- ---------------------------------------------------------------- setup (main Lua state) ----
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- ---------------------------------------------------------------- running (per thread) ------
local requests = {}
local nreq = 0
local idx = 0
-- Globals, so done() can read them through thread:get().
sent = 0
ok = 0
non200 = 0
bad200 = 0        -- 200 without an access_token in the body: counted as a failure too
exhausted = 0     -- requests wrk wanted to send after this thread's bodies ran out
late = 0          -- open loop: send slots that were already > 1 ms in the past when claimed
max_late_ms = 0
statuses = {}
first_error = nil

function init(args)
  assert(bodies_file, "BENCH_BODIES is not set")
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  -- Pre-format every request now: request() must be a table lookup, nothing more.
  local n = 0
  for line in io.lines(bodies_file) do
    if n % nthreads == id and #line > 0 then
      nreq = nreq + 1
      requests[nreq] = wrk.format("POST", path, headers, line)
    end
    n = n + 1
  end
  assert(nreq > 0, "no request bodies for thread " .. id .. " in " .. bodies_file)
end

function request()
  idx = idx + 1
  if idx > nreq then
    -- Out of unused grants: never replay one (that would measure the replay-rejection path).
    -- Stop this thread; the 404 from this last request is counted, and run.sh flags the run.
    exhausted = exhausted + 1
    wrk.thread:stop()
    return wrk.format("GET", "/__bench_out_of_grants__")
  end
  sent = sent + 1
  return requests[idx]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    if string.find(body, '"access_token"', 1, true) then
      ok = ok + 1
    else
      bad200 = bad200 + 1
      first_error = first_error or ("200 without access_token: " .. string.sub(body, 1, 300))
    end
  else
    non200 = non200 + 1
    first_error = first_error or (status .. ": " .. string.sub(body, 1, 300))
  end
end

-- Open loop (BENCH_RATE > 0). wrk has no rate limit (there is no wrk2 in Debian), but it asks
-- delay() before every request on a connection. Each thread keeps a fixed schedule of send
-- slots 1/rate_per_thread apart; a connection that becomes free claims the next slot and
-- sleeps until it. Requests therefore leave on schedule while at least one connection is free,
-- whatever the server's latency, and queueing happens in the server, where it belongs.
-- If every connection is busy at a slot's time, the slot is sent late (wrk measures latency
-- from the actual send, i.e. that wait would be hidden: coordinated omission); such slots are
-- counted in `late` so the report can say whether the schedule held.
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval_ms = 1000 * nthreads / rate
  local next_slot = nil

  function delay()
    local now = now_ms()
    if next_slot == nil then
      -- Threads start together; offset each thread's schedule so their slots interleave.
      next_slot = now + interval_ms * id / nthreads
    end
    local slot = next_slot
    next_slot = next_slot + interval_ms
    local wait = slot - now
    if wait < -1 then
      late = late + 1
      if -wait > max_late_ms then max_late_ms = -wait end
    end
    -- wrk truncates to whole milliseconds; round instead so sends are not biased early.
    if wait <= 0 then return 0 end
    return math.floor(wait + 0.5)
  end
end

-- ---------------------------------------------------------------- done (main Lua state) -----
function done(summary, latency, requests_stats)
  local t = { sent = 0, ok = 0, non200 = 0, bad200 = 0, exhausted = 0, late = 0 }
  local max_late, status_counts, first = 0, {}, nil
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    max_late = math.max(max_late, thread:get("max_late_ms"))
    for code, count in pairs(thread:get("statuses")) do
      status_counts[code] = (status_counts[code] or 0) + count
    end
    first = first or thread:get("first_error")
  end
  local codes = {}
  for code, count in pairs(status_counts) do table.insert(codes, code .. ":" .. count) end
  table.sort(codes)

  local secs = summary.duration / 1e6
  local function ms(us) return string.format("%.2f", us / 1000) end
  io.write(string.format(
    "BENCHRESULT requests=%d ok=%d non200=%d bad200=%d duration_s=%.2f rps=%.1f ok_rps=%.1f " ..
    "p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s exhausted=%d late=%d max_late_ms=%.1f " ..
    "sock_errors=%d timeouts=%d statuses=%s\n",
    summary.requests, t.ok, t.non200, t.bad200, secs, summary.requests / secs, t.ok / secs,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), t.exhausted, t.late, max_late,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    #codes > 0 and table.concat(codes, ",") or "none"))
  if first then
    io.write("BENCHFIRSTERROR " .. string.gsub(first, "\n", " ") .. "\n")
  end
end
