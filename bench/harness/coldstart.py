"""Scale-from-zero: how long the first request to an API at zero replicas waits for its answer,
and where that time goes.

Each round waits until every API measured has no replica left (not even a stopping one), sends
one request through the gateway and times it to its answer. The phases come from the log lines
of the operator and of the replica (milliseconds, UTC), matched to the request by time:

  decided   the operator saw the held request   "autoscaler: api A: 0 -> 1 replicas: ..."
  spawned   it started the replica process       "api A: started replica ..."
  running   the replica's main() bound its port  "listening on ...; loading ..."
  runtime   a native runtime module is loaded    "torchscript runtime loaded in N ms"
  loaded    the predictor is loaded              "ready"
  routed    the operator's probe saw it ready    "api A: replica ... ready (pid ...)"
  answered  the client has the answer            (measured here)

Each phase is the time since the one before it that was found (a Python predictor without
native models has no `runtime`); `decided` is counted from the request.
"""
import calendar
import http.client
import json
import statistics
import time

from harness import procstat

PHASES = ["decided", "spawned", "running", "runtime", "loaded", "routed", "answered"]
# Scale-to-zero settings that bring an idle API back to zero within a few seconds.
AUTOSCALING = """  autoscaling:
    min_replicas: 0
    max_replicas: 1
    window: 1s
    downscale_stabilization_period: 1s
"""
UP_ARGS = ("--autoscale-ms", "300", "--sample-ms", "100")  # the default --tick-ms (200)


def _log_lines(path, since_ms):
    """The JSON lines of log `path` written at or after `since_ms`, oldest first."""
    out = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict) or "time" not in line:
            continue
        ms = _parse_time(line["time"])
        if ms is not None and ms >= since_ms:
            out.append((ms, line))
    return out


def _parse_time(text):
    # "2026-12-02T07:49:12.345Z"
    try:
        seconds = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
        return seconds * 1000 + int(text[20:23])
    except (ValueError, IndexError):
        return None


def _first(lines, predicate):
    for ms, line in lines:
        if predicate(line.get("message", ""), line):
            return ms
    return None


def phases_of(home, api, sent_ms, answered_ms):
    """{phase: ms since the previous phase} from the logs, or None for a phase not found."""
    operator = _log_lines(home / "logs" / "operator.log", sent_ms - 1)
    replica = _log_lines(home / "logs" / f"{api}.log", sent_ms - 1)
    at = {
        "decided": _first(operator, lambda m, _: m.startswith(f"autoscaler: api {api}: 0 -> 1")),
        "spawned": _first(operator, lambda m, _: m.startswith(f"api {api}: started replica")),
        "running": _first(replica, lambda m, l: l.get("source") == "replica" and
                          m.startswith("listening on")),
        "runtime": _first(replica, lambda m, l: l.get("source") == "replica" and
                          " runtime loaded in " in m),
        "loaded": _first(replica, lambda m, l: l.get("source") == "replica" and
                         m.startswith("ready")),
        "routed": _first(operator, lambda m, _: m.startswith(f"api {api}: replica ") and
                         " ready (pid " in m),
        "answered": answered_ms,
    }
    out, before = {}, sent_ms
    for phase in PHASES:
        if at[phase] is None:
            out[phase] = None
            continue
        out[phase] = at[phase] - before
        before = at[phase]
    return out


def _live_replicas(platform, api):
    return platform.describe(api)["replicas"]


def _wait_all_at_zero(platform, apis, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(not _live_replicas(platform, a) for a in apis):
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout} s waiting for {', '.join(apis)} to be at zero")


def _post(port, path, body, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


def measure(platform, bodies, rounds):
    """{api: {"rounds": [{"total_ms", "phases", "status", "rss_mb"}], ...}} for `bodies`
    ({api: request body}), on a platform started with UP_ARGS and the APIs deployed with
    AUTOSCALING."""
    results = {api: {"rounds": []} for api in bodies}
    for _ in range(rounds):
        for api, body in bodies.items():
            _wait_all_at_zero(platform, list(bodies))
            time.sleep(0.3)  # let the exited replicas' last log lines land
            sent_ms = int(time.time() * 1000)
            start = time.monotonic()
            status, answer = _post(platform.gateway_port, f"/{api}", body)
            total_ms = (time.monotonic() - start) * 1000
            answered_ms = int(time.time() * 1000)
            replicas = _live_replicas(platform, api)
            rss = procstat.peak_rss_mb(replicas[0]["pid"]) if replicas else 0.0
            results[api]["rounds"].append({
                "total_ms": total_ms, "status": status, "rss_mb": rss,
                "phases": phases_of(platform.home, api, sent_ms, answered_ms),
                "error": None if status == 200 else answer[:200].decode(errors="replace")})
            print(f"  cold start {api:16} {total_ms:7.0f} ms  status {status}  "
                  f"replica peak RSS {rss:.1f} MiB", flush=True)
    return results


def summary(results):
    """{api: {"median_ms", "max_ms", "phases_median": {phase: ms}, "rss_mb"}}."""
    out = {}
    for api, r in results.items():
        totals = [x["total_ms"] for x in r["rounds"]]
        phases = {}
        for phase in PHASES:
            values = [x["phases"][phase] for x in r["rounds"] if x["phases"][phase] is not None]
            phases[phase] = statistics.median(values) if values else None
        out[api] = {"median_ms": statistics.median(totals), "max_ms": max(totals),
                    "rounds": len(totals), "phases_median": phases,
                    "rss_mb": max(x["rss_mb"] for x in r["rounds"]),
                    "errors": sum(1 for x in r["rounds"] if x["status"] != 200)}
    return out


def table(results):
    """Markdown: one line per API, medians of the phases."""
    s = summary(results)
    lines = ["| api | rounds | first answer median ms | max ms | " +
             " | ".join(f"{p} ms" for p in PHASES) + " | replica peak RSS MiB | errors |",
             "|---|---:|---:|---:|" + "---:|" * len(PHASES) + "---:|---:|"]
    for api, x in s.items():
        cells = " | ".join("-" if x["phases_median"][p] is None else f"{x['phases_median'][p]:.0f}"
                           for p in PHASES)
        lines.append(f"| {api} | {x['rounds']} | {x['median_ms']:.0f} | {x['max_ms']:.0f} | "
                     f"{cells} | {x['rss_mb']:.1f} | {x['errors']} |")
    return "\n".join(lines)
