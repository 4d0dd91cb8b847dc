"""bench/run: measures Axon against FastAPI/uvicorn, the bare HTTP server and the model
in-process, and writes bench/results/<date>-<sha>.md with a chart. See bench/README.md."""
import argparse
import datetime
import json
import pathlib
import subprocess
import sys
import tempfile

from harness import procstat, report, servers, wrk

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "post.lua"

SCENARIOS = {
    "python-echo": {"predictor": BENCH / "scenarios/echo/predictor.py",
                    "body": json.dumps({"text": "hello axon", "values": [1, 2, 3]})},
    "python-numpy": {"predictor": BENCH / "scenarios/numpy/predictor.py",
                     "body": json.dumps({"x": [0.5] * 64})},
}
MODES = {
    "full": {"conns": [1, 16, 64, 256], "seconds": 10, "workers": [1, 2],
             "scenarios": list(SCENARIOS)},
    "quick": {"conns": [1, 64], "seconds": 3, "workers": [1, 2], "scenarios": list(SCENARIOS)},
    "smoke": {"conns": [4], "seconds": 1, "workers": [1], "scenarios": ["python-echo"]},
}
REPLICAS = 2  # Axon replicas per API, matched by the 2-worker FastAPI baseline


def measure(rows, scenario, path, url, conns, seconds, groups):
    meter = procstat.CpuMeter(groups)
    meter.start()
    body = SCENARIOS[scenario]["body"] if scenario in SCENARIOS else "{}"
    result = wrk.run(url, conns, seconds, LUA, body)
    cpu = meter.stop()
    per_1k = {k: v / max(result.requests, 1) * 1000 for k, v in cpu.items()}
    rows.append({"scenario": scenario, "path": path, "conns": conns,
                 "rps": result.requests_per_s, "latency_ms": result.latency_ms,
                 "errors": result.errors, "cpu_per_1k": per_1k})
    print(f"  {scenario:13} {path:18} c={conns:<4} {result.requests_per_s:10,.0f} req/s  "
          f"p50 {result.latency_ms.get('50', 0):.3f} ms  p99 {result.latency_ms.get('99', 0):.3f} ms"
          f"  errors {result.errors}", flush=True)


def in_process(rows, bin_dir, scenario):
    env = {"AXON_BENCH_PREDICTOR": str(SCENARIOS[scenario]["predictor"]),
           "AXON_BENCH_BODY": SCENARIOS[scenario]["body"], "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(bin_dir / "axon-bench-python-predictor"),
                          "--benchmark_format=json", "--benchmark_min_time=0.5"],
                         env=env, check=True, capture_output=True, text=True, timeout=120)
    bench = json.loads(out.stdout)["benchmarks"][0]
    ns = bench["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[bench["time_unit"]]
    rows.append({"scenario": scenario, "path": "in-process (1 thread)", "conns": None,
                 "rps": 1e9 / ns, "latency_ms": {"50": ns / 1e6}, "errors": 0, "cpu_per_1k": {}})


def spec_yaml(scenarios):
    apis = []
    for name in scenarios:
        apis.append(f"""- name: {name}
  kind: RealtimeAPI
  predictor:
    type: python
    path: {SCENARIOS[name]['predictor']}
  autoscaling:
    min_replicas: {REPLICAS}
    max_replicas: {REPLICAS}
""")
    return "".join(apis)


def run_axon(rows, rss, mode, bin_dir, home):
    spec = pathlib.Path(home) / "bench.yaml"
    spec.write_text(spec_yaml(mode["scenarios"]))
    with servers.AxonPlatform(bin_dir, pathlib.Path(home) / "axon") as platform:
        platform.deploy(spec, mode["scenarios"])
        gateway, operator = platform.pid("gateway"), platform.pid("operator")
        for scenario in mode["scenarios"]:
            replicas = platform.describe(scenario)["replicas"]
            pids = [r["pid"] for r in replicas]
            full_url = f"http://127.0.0.1:{platform.gateway_port}/{scenario}"
            for c in mode["conns"]:
                measure(rows, scenario, f"axon ({REPLICAS} replicas)", full_url, c,
                        mode["seconds"], {"gateway": [gateway], "replicas": pids,
                                          "operator": [operator]})
            direct_url = f"http://127.0.0.1:{replicas[0]['port']}/predict"
            for c in mode["conns"]:
                measure(rows, scenario, "replica direct", direct_url, c, mode["seconds"],
                        {"replica": [pids[0]]})
            for r in replicas:
                rss[f"replica {r['id']}"] = procstat.peak_rss_mb(r["pid"])
        rss["gateway"] = procstat.peak_rss_mb(gateway)
        rss["operator"] = procstat.peak_rss_mb(operator)


def run_baselines(rows, mode, bin_dir):
    for scenario in mode["scenarios"]:
        for workers in mode["workers"]:
            with servers.fastapi(SCENARIOS[scenario]["predictor"], workers) as (port, pid):
                pids = [pid, *procstat.children(pid)]
                for c in mode["conns"]:
                    measure(rows, scenario, f"fastapi {workers}w", f"http://127.0.0.1:{port}/predict",
                            c, mode["seconds"], {"uvicorn": pids})
        in_process(rows, bin_dir, scenario)
    with servers.bare_server(bin_dir) as (port, pid):
        for c in mode["conns"]:
            measure(rows, "fixed answer", "bare server", f"http://127.0.0.1:{port}/", c,
                    mode["seconds"], {"server": [pid]})


def find(rows, scenario, path_prefix, conns):
    for r in rows:
        if r["scenario"] == scenario and r["path"].startswith(path_prefix) and r["conns"] == conns:
            return r
    return None


def summarize(rows, mode):
    lines = []
    conns = 64 if 64 in mode["conns"] else max(mode["conns"])
    bare = find(rows, "fixed answer", "bare", conns)
    for s in mode["scenarios"]:
        full, direct = find(rows, s, "axon", conns), find(rows, s, "replica direct", conns)
        fast = find(rows, s, "fastapi 2w", conns) or find(rows, s, "fastapi 1w", conns)
        ratios = [f"full/{fast['path']} {full['rps'] / fast['rps']:.2f}x" if fast else None,
                  f"full/direct {full['rps'] / direct['rps']:.2f}x",
                  f"full/bare {full['rps'] / bare['rps']:.2f}x" if bare else None]
        lines.append(f"{s} at {conns} connections: " + ", ".join(x for x in ratios if x))
        full1, direct1 = find(rows, s, "axon", 1), find(rows, s, "replica direct", 1)
        if full1 and direct1:
            overhead_us = (full1["latency_ms"]["50"] - direct1["latency_ms"]["50"]) * 1000
            lines.append(f"{s}: gateway latency overhead at 1 connection (p50 full - p50 direct): "
                         f"{overhead_us:.0f} us")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 2 minutes")
    parser.add_argument("--smoke", action="store_true", help="seconds; checks the harness only")
    parser.add_argument("--bin-dir", default=str(ROOT / "build" / "bin"))
    parser.add_argument("--out", help="report folder (default bench/results; smoke: a temp dir)")
    parser.add_argument("--no-build", action="store_true", help="accepted from bench/run")
    args = parser.parse_args()
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    mode, bin_dir = MODES[name], pathlib.Path(args.bin_dir)
    rows, rss = [], {}
    with tempfile.TemporaryDirectory(prefix="axon-bench-") as home:
        print(f"bench ({name}): {mode['conns']} connections, {mode['seconds']} s each", flush=True)
        run_axon(rows, rss, mode, bin_dir, home)
        run_baselines(rows, mode, bin_dir)
        out = pathlib.Path(args.out) if args.out else (
            pathlib.Path(home) if args.smoke else BENCH / "results")
        out.mkdir(parents=True, exist_ok=True)
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True).stdout.strip() or "nogit"
        stem = f"{datetime.date.today().isoformat()}-{sha}" + ("-" + name if name != "full" else "")
        commands = [" ".join(["bench/run", *sys.argv[1:]]),
                    " ".join(wrk.command("URL", 64, mode["seconds"], "bench/post.lua"))]
        md, png = report.write(out / f"{stem}.md", rows, rss, summarize(rows, mode), commands,
                               f"Axon bench ({name}), {datetime.date.today().isoformat()}, {sha}")
        print(f"report: {md}\nchart:  {png}")
        print(md.read_text().split("## Results")[0].split("## Summary")[1])
    errors = sum(r["errors"] for r in rows)
    if errors:
        print(f"bench: {errors} failed requests (non-2xx or socket errors)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
