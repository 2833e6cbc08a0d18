-- wrk script: POST the body in the file named by $TCNVAE_BODY (e.g. a conformance window) and
-- count response statuses (503 with and without Retry-After apart) for the benchmark's table.
-- wrk -t1 -c8 -d10s --latency -s benchmarks/post.lua http://127.0.0.1:9000/infer
-- $TCNVAE_CTYPE overrides the Content-Type; $TCNVAE_HEADER_LEN adds Inference-Header-Content-Length
-- (an Open Inference Protocol binary body).
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("TCNVAE_CTYPE") or "application/json"
local header_len = os.getenv("TCNVAE_HEADER_LEN")
if header_len then
  wrk.headers["Inference-Header-Content-Length"] = header_len
end
local path = os.getenv("TCNVAE_BODY") or "../shared/conformance/realistic_imu_sample.json"
local f = assert(io.open(path, "rb"))
wrk.body = f:read("*a")
f:close()

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

ok, busy, busy_no_retry, other = 0, 0, 0, 0
function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 and (headers["Retry-After"] or headers["retry-after"]) then
    busy = busy + 1
  elseif status == 503 then
    busy_no_retry = busy_no_retry + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local t = {0, 0, 0, 0}
  for _, thread in ipairs(threads) do
    t[1] = t[1] + thread:get("ok")
    t[2] = t[2] + thread:get("busy")
    t[3] = t[3] + thread:get("busy_no_retry")
    t[4] = t[4] + thread:get("other")
  end
  io.write(string.format("statuses ok=%d busy_retry_after=%d busy_no_retry=%d other=%d\n", t[1], t[2], t[3], t[4]))
  -- An upper bound on the p99 of the 200 answers alone: the slowest 1 % of them are at most the
  -- slowest (ok / total) % of all answers (equal when every refusal was faster than them).
  local total = t[1] + t[2] + t[3] + t[4]
  if t[1] > 0 then
    io.write(string.format("p99_ok_bound_us=%d\n", latency:percentile(100 - t[1] / total)))
  end
end
