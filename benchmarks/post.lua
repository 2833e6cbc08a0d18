-- wrk script: POST the JSON body in the file named by $TCNVAE_BODY (e.g. a conformance window).
-- wrk -t1 -c8 -d10s --latency -s benchmarks/post.lua http://127.0.0.1:9000/infer
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local path = os.getenv("TCNVAE_BODY") or "../shared/conformance/realistic_imu_sample.json"
local f = assert(io.open(path, "rb"))
wrk.body = f:read("*a")
f:close()
