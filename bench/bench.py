"""bench/run: measures Axon against FastAPI/uvicorn, the bare HTTP server and the model
in-process, and writes bench/results/<date>-<sha>.md with a chart. See bench/README.md."""
import argparse
import datetime
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

from harness import coldstart, procstat, report, servers, targets, wrk
from harness.report import find

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "post.lua"
LUA_FILE = BENCH / "post_file.lua"

MLP_INPUTS = "    inputs: [{name: x, dtype: float32, shape: [64]}]\n"
MLP_BODY = json.dumps({"instances": [[round(i / 64, 3) for i in range(64)]]})
# Python scenarios name a predictor (also served by the FastAPI baseline); native ones name the
# example whose build_model.py makes their model, and may name a FastAPI baseline predictor.
SCENARIOS = {
    "python-echo": {"predictor": BENCH / "scenarios/echo/predictor.py",
                    "body": json.dumps({"text": "hello axon", "values": [1, 2, 3]})},
    "python-numpy": {"predictor": BENCH / "scenarios/numpy/predictor.py",
                     "body": json.dumps({"x": [0.5] * 64})},
    "mlp-torchscript": {"type": "torchscript", "example": "mlp-torchscript", "extra": MLP_INPUTS,
                        "body": MLP_BODY, "predictor": BENCH / "scenarios/mlp/predictor.py"},
    "mlp-batched": {"type": "torchscript", "example": "mlp-torchscript",
                    "extra": MLP_INPUTS + "    server_side_batching: "
                                          "{max_batch_size: 32}\n",
                    "body": MLP_BODY},
    "resnet-onnx": {"type": "onnx", "example": "resnet-onnx",
                    "body": (ROOT / "examples/resnet-onnx/sample.json").read_text()},
    "xgboost-tabular": {"type": "xgboost", "example": "xgboost-tabular",
                        "body": (ROOT / "examples/xgboost-tabular/sample.json").read_text()},
}
NATIVE = [name for name, s in SCENARIOS.items() if "type" in s]
# The Open Inference Protocol against the mlp-torchscript API: the same input as MLP_BODY, as
# v2 JSON, as a binary tensor (and binary output), and over gRPC (axon-bench-grpc-load).
MLP_X = [round(i / 64, 3) for i in range(64)]
V2_SCENARIOS = {"mlp-v2-json": "json", "mlp-v2-binary": "binary", "mlp-v2-grpc": "grpc"}
V2_API = "mlp-torchscript"
# Scale from zero: a native API, a Python API, and one that imports numpy.
COLD_START = ["mlp-torchscript", "python-echo", "python-numpy"]
MODES = {
    "full": {"conns": [1, 16, 64, 128, 256], "seconds": 10, "workers": [1, 2],
             "scenarios": list(SCENARIOS), "v2": list(V2_SCENARIOS), "cold_rounds": 7},
    "quick": {"conns": [1, 64, 128], "seconds": 3, "workers": [2], "scenarios": list(SCENARIOS),
              "v2": list(V2_SCENARIOS), "cold_rounds": 5},
    "smoke": {"conns": [4], "seconds": 1, "workers": [1],
              "scenarios": ["python-echo", "mlp-torchscript"], "v2": list(V2_SCENARIOS),
              "cold_rounds": 1},
}
REPLICAS = 2  # Axon replicas per API, matched by the 2-worker FastAPI baseline


def v2_bodies(home):
    """The v2 request bodies: {kind: (file, headers)} for wrk's post_file.lua."""
    x = {"name": "x", "shape": [1, 64], "datatype": "FP32"}
    as_json = json.dumps({"inputs": [dict(x, data=MLP_X)]}).encode()
    header = json.dumps({"inputs": [dict(x, parameters={"binary_data_size": 256})],
                         "parameters": {"binary_data_output": True}}).encode()
    bodies = {}
    for kind, body, headers in (
            ("json", as_json, "Content-Type: application/json"),
            ("binary", header + struct.pack("<64f", *MLP_X),
             f"Content-Type: application/octet-stream\nInference-Header-Content-Length: "
             f"{len(header)}")):
        path = pathlib.Path(home) / f"v2-{kind}.body"
        path.write_bytes(body)
        bodies[kind] = (path, headers)
    return bodies


def measure(rows, scenario, path, url, conns, seconds, groups, v2_body=None):
    meter = procstat.CpuMeter(groups)
    meter.start()
    if v2_body:  # (file, headers) of an Open Inference Protocol request
        result = wrk.run(url, conns, seconds, LUA_FILE, "", {"AXON_BENCH_BODY_FILE": str(v2_body[0]),
                                                           "AXON_BENCH_HEADERS": v2_body[1]})
    else:
        body = SCENARIOS[scenario]["body"] if scenario in SCENARIOS else "{}"
        result = wrk.run(url, conns, seconds, LUA, body)
    cpu = meter.stop()
    per_1k = {k: v / max(result.requests, 1) * 1000 for k, v in cpu.items()}
    rows.append({"scenario": scenario, "path": path, "conns": conns,
                 "rps": result.requests_per_s, "latency_ms": result.latency_ms,
                 "errors": result.errors, "cpu_per_1k": per_1k,
                 "switches_per_req": {k: v / max(result.requests, 1)
                                      for k, v in meter.switches.items()}})
    print(f"  {scenario:13} {path:18} c={conns:<4} {result.requests_per_s:10,.0f} req/s  "
          f"p50 {result.latency_ms.get('50', 0):.3f} ms  p99 {result.latency_ms.get('99', 0):.3f} ms"
          f"  errors {result.errors}", flush=True)


def measure_grpc(rows, scenario, bin_dir, port, conns, seconds, groups):
    meter = procstat.CpuMeter(groups)
    meter.start()
    out = subprocess.run([str(bin_dir / "axon-bench-grpc-load"), "--port", str(port), "--model",
                          V2_API, "--concurrency", str(conns), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True, timeout=seconds + 60)
    cpu = meter.stop()
    result = json.loads(out.stdout)
    per_1k = {k: v / max(result["requests"], 1) * 1000 for k, v in cpu.items()}
    rows.append({"scenario": scenario, "path": f"axon ({REPLICAS} replicas)", "conns": conns,
                 "rps": result["requests_per_s"], "latency_ms": result["latency_ms"],
                 "errors": result["errors"], "cpu_per_1k": per_1k})
    print(f"  {scenario:13} {'axon gRPC':18} c={conns:<4} {result['requests_per_s']:10,.0f} req/s  "
          f"p50 {result['latency_ms']['50']:.3f} ms  p99 {result['latency_ms']['99']:.3f} ms"
          f"  errors {result['errors']}", flush=True)


def run_v2(rows, mode, bin_dir, home, platform):
    """The Open Inference Protocol scenarios, on the deployed mlp-torchscript API."""
    if V2_API not in mode["scenarios"]:
        return
    bodies = v2_bodies(home)
    gateway, operator = platform.pid("gateway"), platform.pid("operator")
    replicas = platform.describe(V2_API)["replicas"]
    pids = [r["pid"] for r in replicas]
    groups = {"gateway": [gateway], "replicas": pids, "operator": [operator]}
    for scenario in mode["v2"]:
        kind = V2_SCENARIOS[scenario]
        for c in mode["conns"]:
            if kind == "grpc":
                measure_grpc(rows, scenario, bin_dir, platform.grpc_port, c, mode["seconds"], groups)
            else:
                url = f"http://127.0.0.1:{platform.gateway_port}/v2/models/{V2_API}/infer"
                measure(rows, scenario, f"axon ({REPLICAS} replicas)", url, c, mode["seconds"],
                        groups, bodies[kind])
        if kind != "grpc":
            direct_url = f"http://127.0.0.1:{replicas[0]['port']}/v2/infer"
            for c in mode["conns"]:
                measure(rows, scenario, "replica direct", direct_url, c, mode["seconds"],
                        {"replica": [pids[0]]}, bodies[kind])


def build_models(scenarios, home):
    """Builds each native scenario's model with its example's script; returns name -> path."""
    paths = {}
    for name in scenarios:
        if name in NATIVE:
            example = SCENARIOS[name]["example"]
            out = pathlib.Path(home) / "models" / example
            if not out.exists():
                subprocess.run(["/usr/bin/python3", str(ROOT / "examples" / example /
                                                        "build_model.py"), "--out", str(out)],
                               check=True, capture_output=True, timeout=300)
            paths[name] = out
    if "mlp-torchscript" in paths:  # the FastAPI baseline serves the same file
        os.environ["AXON_BENCH_MODEL"] = str(paths["mlp-torchscript"] / "1" / "model.pt")
    return paths


def in_process(rows, bin_dir, scenario, model_paths):
    env = {"AXON_BENCH_BODY": SCENARIOS[scenario]["body"], "PATH": "/usr/bin:/bin"}
    if scenario in NATIVE:
        env.update(AXON_BENCH_MODEL_TYPE=SCENARIOS[scenario]["type"],
                   AXON_BENCH_MODEL_PATH=str(model_paths[scenario]))
        binary, labels = "axon-bench-native-model", ["in-process model call",
                                                     "in-process decode+call+encode"]
    else:
        env["AXON_BENCH_PREDICTOR"] = str(SCENARIOS[scenario]["predictor"])
        binary, labels = "axon-bench-python-predictor", ["in-process (1 thread)"]
    out = subprocess.run([str(bin_dir / binary), "--benchmark_format=json",
                          "--benchmark_min_time=0.5"],
                         env=env, check=True, capture_output=True, text=True, timeout=120)
    for bench, label in zip(json.loads(out.stdout)["benchmarks"], labels):
        ns = bench["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[bench["time_unit"]]
        rows.append({"scenario": scenario, "path": label, "conns": None, "rps": 1e9 / ns,
                     "latency_ms": {"50": ns / 1e6}, "errors": 0, "cpu_per_1k": {}})


def spec_yaml(scenarios, model_paths, autoscaling=None):
    """The spec of `scenarios`; `autoscaling`: its YAML block, else REPLICAS fixed replicas."""
    autoscaling = autoscaling or (f"  autoscaling:\n    min_replicas: {REPLICAS}\n"
                                  f"    max_replicas: {REPLICAS}\n")
    apis = []
    for name in scenarios:
        s = SCENARIOS[name]
        predictor = (f"    type: {s['type']}\n    model_path: {model_paths[name]}\n{s.get('extra', '')}"
                     if name in NATIVE else f"    type: python\n    path: {s['predictor']}\n")
        apis.append(f"""- name: {name}
  kind: RealtimeAPI
  predictor:
{predictor}{autoscaling}""")
    return "".join(apis)


def run_cold_start(scenarios, rounds, bin_dir, home, model_paths, up_args=()):
    """Scale from zero (harness/coldstart.py) on a platform of its own with the default tick
    (and `up_args` for `axon up`); returns the results by scenario."""
    pathlib.Path(home).mkdir(parents=True, exist_ok=True)
    spec = pathlib.Path(home) / "coldstart.yaml"
    spec.write_text(spec_yaml(scenarios, model_paths, coldstart.AUTOSCALING))
    with servers.AxonPlatform(bin_dir, pathlib.Path(home) / "axon-coldstart",
                              (*coldstart.UP_ARGS, *up_args)) as platform:
        platform.deploy(spec, scenarios)
        return coldstart.measure(platform, {s: SCENARIOS[s]["body"] for s in scenarios}, rounds)


def run_axon(rows, rss, mode, bin_dir, home, model_paths):
    spec = pathlib.Path(home) / "bench.yaml"
    spec.write_text(spec_yaml(mode["scenarios"], model_paths))
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
        run_v2(rows, mode, bin_dir, home, platform)
        rss["gateway"] = procstat.peak_rss_mb(gateway)
        rss["operator"] = procstat.peak_rss_mb(operator)


def run_baselines(rows, mode, bin_dir, model_paths):
    for scenario in mode["scenarios"]:
        in_process(rows, bin_dir, scenario, model_paths)
        if "predictor" not in SCENARIOS[scenario]:
            continue
        for workers in mode["workers"]:
            with servers.fastapi(SCENARIOS[scenario]["predictor"], workers) as (port, pid):
                pids = [pid, *procstat.children(pid)]
                for label, route in ((f"fastapi {workers}w", "predict"),
                                     (f"fastapi-pydantic {workers}w", "predict-typed")):
                    for c in mode["conns"]:
                        measure(rows, scenario, label, f"http://127.0.0.1:{port}/{route}", c,
                                mode["seconds"], {"uvicorn": pids})
    with servers.bare_server(bin_dir) as (port, pid):
        for c in mode["conns"]:
            measure(rows, "fixed answer", "bare server", f"http://127.0.0.1:{port}/", c,
                    mode["seconds"], {"server": [pid]})


def summarize(rows, mode):
    lines = []
    conns = 64 if 64 in mode["conns"] else max(mode["conns"])
    bare = find(rows, "fixed answer", "bare", conns)
    for s in mode["scenarios"]:
        full, direct = find(rows, s, "axon", conns), find(rows, s, "replica direct", conns)
        fast = find(rows, s, "fastapi 2w", conns) or find(rows, s, "fastapi 1w", conns)
        typed = (find(rows, s, "fastapi-pydantic 2w", conns) or
                 find(rows, s, "fastapi-pydantic 1w", conns))
        ratios = [f"full/{fast['path']} {full['rps'] / fast['rps']:.2f}x" if fast else None,
                  f"full/{typed['path']} {full['rps'] / typed['rps']:.2f}x" if typed else None,
                  f"full/direct {full['rps'] / direct['rps']:.2f}x",
                  f"full/bare {full['rps'] / bare['rps']:.2f}x" if bare else None]
        lines.append(f"{s} at {conns} connections: " + ", ".join(x for x in ratios if x))
        if s == "mlp-batched" and "mlp-torchscript" in mode["scenarios"]:
            top = 128 if 128 in mode["conns"] else max(mode["conns"])
            batched, plain = find(rows, s, "axon", top), find(rows, "mlp-torchscript", "axon", top)
            lines.append(f"mlp-batched/mlp-torchscript through the full path at {top} "
                         f"connections: {batched['rps'] / plain['rps']:.2f}x")
        if s == V2_API:
            v2 = [(v, find(rows, v, "axon", conns)) for v in mode["v2"]]
            lines.append(f"{s} at {conns} connections through the full path, V1 JSON "
                         f"{full['rps']:,.0f} req/s; Open Inference Protocol: " +
                         ", ".join(f"{V2_SCENARIOS[v]} {r['rps']:,.0f} req/s ({r['rps'] / full['rps']:.2f}x)"
                                   for v, r in v2 if r))
        full1, direct1 = find(rows, s, "axon", 1), find(rows, s, "replica direct", 1)
        if full1 and direct1:
            overhead_us = (full1["latency_ms"]["50"] - direct1["latency_ms"]["50"]) * 1000
            lines.append(f"{s}: gateway latency overhead at 1 connection (p50 full - p50 direct): "
                         f"{overhead_us:.0f} us")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about 6 minutes")
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
        model_paths = build_models(mode["scenarios"], home)
        run_axon(rows, rss, mode, bin_dir, home, model_paths)
        run_baselines(rows, mode, bin_dir, model_paths)
        cold_scenarios = [s for s in COLD_START if s in mode["scenarios"]]
        cold = run_cold_start(cold_scenarios, mode["cold_rounds"], bin_dir, home, model_paths)
        out = pathlib.Path(args.out) if args.out else (
            pathlib.Path(home) if args.smoke else BENCH / "results")
        out.mkdir(parents=True, exist_ok=True)
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True).stdout.strip() or "nogit"
        stem = f"{datetime.date.today().isoformat()}-{sha}" + ("-" + name if name != "full" else "")
        commands = [" ".join(["bench/run", *sys.argv[1:]]),
                    " ".join(wrk.command("URL", 64, mode["seconds"], "bench/post.lua"))]
        md, png = report.write(out / f"{stem}.md", rows, rss, summarize(rows, mode), commands,
                               f"Axon bench ({name}), {datetime.date.today().isoformat()}, {sha}",
                               [("Targets", targets.table(rows, rss, coldstart.summary(cold))),
                                ("Cold start (scale from zero)", coldstart.table(cold))])
        print(f"report: {md}\nchart:  {png}")
        print(md.read_text().split("## Results")[0].split("## Summary")[1])
    errors = sum(r["errors"] for r in rows) + sum(
        x["errors"] for x in coldstart.summary(cold).values())
    if errors:
        print(f"bench: {errors} failed requests (non-2xx or socket errors)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
