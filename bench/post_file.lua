-- wrk script: POST the bytes of the file $AXON_BENCH_BODY_FILE, with the headers of
-- $AXON_BENCH_HEADERS ("Name: value" lines), for bodies with binary data.
local file = assert(io.open(os.getenv("AXON_BENCH_BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.method = "POST"
for line in (os.getenv("AXON_BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end
