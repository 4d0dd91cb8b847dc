-- wrk script: POST the body in $AXON_BENCH_BODY as JSON.
wrk.method = "POST"
wrk.body = os.getenv("AXON_BENCH_BODY") or "{}"
wrk.headers["Content-Type"] = "application/json"
