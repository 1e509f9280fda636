-- wrk script for bench/pdp: POST /authorization/api/v1/authorize, cycling through the
-- pre-generated JSON requests (`pdp-bench requests`), with one bearer token for all of them
-- (a decision request may reuse its token; only the decision is measured).
--   BENCH_REQUESTS  file with one JSON request per line
--   BENCH_TOKEN     the access token (scope altinn:authorization/authorize)
--   BENCH_THREADS   must equal wrk's -t; thread k starts at line k and steps by T
-- done() prints one machine-readable line for run.sh:
--   BENCHRESULT requests=.. ok=.. non200=.. permit=.. notapplicable=.. other=.. rps=.. ok_rps=..
--               p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. sock_errors=..

local requests_file = os.getenv("BENCH_REQUESTS")
local token = os.getenv("BENCH_TOKEN")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local requests = {}
local nreq = 0
local idx = 0
sent = 0; ok = 0; non200 = 0; permit = 0; notapplicable = 0; other = 0
first_error = nil

function init(args)
  assert(requests_file and token, "BENCH_REQUESTS and BENCH_TOKEN must be set")
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
  local n = 0
  for line in io.lines(requests_file) do
    if n % nthreads == id and #line > 0 then
      nreq = nreq + 1
      requests[nreq] = wrk.format("POST", "/authorization/api/v1/authorize", headers, line)
    end
    n = n + 1
  end
  assert(nreq > 0, "no requests for thread " .. id)
end

function request()
  -- Cycle: the sequence is long (100 k by default) so the server sees many system users.
  idx = idx % nreq + 1
  sent = sent + 1
  return requests[idx]
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    if string.find(body, '"Permit"', 1, true) then permit = permit + 1
    elseif string.find(body, '"NotApplicable"', 1, true) then notapplicable = notapplicable + 1
    else other = other + 1; first_error = first_error or body end
  else
    non200 = non200 + 1
    first_error = first_error or (status .. " " .. body)
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, non200 = 0, permit = 0, notapplicable = 0, other = 0 }
  local err = nil
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
    err = err or th:get("first_error")
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCHRESULT requests=%d ok=%d non200=%d permit=%d notapplicable=%d other=%d rps=%.1f ok_rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f sock_errors=%d\n",
    summary.requests, t.ok, t.non200, t.permit, t.notapplicable, t.other, summary.requests / secs, t.ok / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout))
  if err then io.write("BENCHFIRSTERROR " .. string.sub(err, 1, 300) .. "\n") end
end
