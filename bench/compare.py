"""bench/compare: the request path of two builds, measured in turns in one run.

A report from another day (or another machine) cannot show whether a change made the request
path slower: the machine itself moves by tens of percent. This starts an isolated platform
from each build's bin folder in turn (A, B, A, B, ...), deploys the same scenario, and
measures the full path at 1 and 64 connections and one replica directly at 64, with the CPU
each process group used per request. It writes bench/results/DATE-SHA-compare.md.

    bench/compare [--rounds N] [--seconds S] [--scenario NAME] [--names A B] A_BIN_DIR B_BIN_DIR
"""
import argparse
import datetime
import pathlib
import subprocess
import sys
import tempfile

import bench
from harness import report, servers


def run_build(rows, label, bin_dir, scenario, model_paths, seconds, home):
    home.mkdir()
    spec = home / "bench.yaml"
    spec.write_text(bench.spec_yaml([scenario], model_paths))
    with servers.AxonPlatform(bin_dir, home / "axon") as platform:
        platform.deploy(spec, [scenario])
        gateway = platform.pid("gateway")
        replicas = platform.describe(scenario)["replicas"]
        pids = [r["pid"] for r in replicas]
        full_url = f"http://127.0.0.1:{platform.gateway_port}/{scenario}"
        for conns in (1, 64):
            bench.measure(rows, scenario, f"{label} full", full_url, conns, seconds,
                          {"gateway": [gateway], "replicas": pids})
        bench.measure(rows, scenario, f"{label} direct",
                      f"http://127.0.0.1:{replicas[0]['port']}/predict", 64, seconds,
                      {"replica": [pids[0]]})


def _mean(values):
    return sum(values) / len(values)


def summarize(rows, scenario, labels):
    """Per build: the mean over rounds of req/s, CPU and context switches per request at 64
    connections."""
    lines = []
    for label, name in labels.items():
        full = [r for r in rows if r["path"] == f"{label} full" and r["conns"] == 64]
        direct = [r for r in rows if r["path"] == f"{label} direct"]
        rps = _mean([r["rps"] for r in full])
        gateway_us = _mean([r["cpu_per_1k"]["gateway"] for r in full]) * 1000
        replicas_us = _mean([r["cpu_per_1k"]["replicas"] for r in full]) * 1000
        switches = {group: _mean([r["switches_per_req"][group] for r in full])
                    for group in ("gateway", "replicas")}
        direct_rps = _mean([r["rps"] for r in direct])
        lines.append(f"{label} ({name}): {scenario} full path at 64 connections "
                     f"{rps:,.0f} req/s, CPU per request gateway {gateway_us:.1f} us, replicas "
                     f"{replicas_us:.1f} us, context switches per request gateway "
                     f"{switches['gateway']:.2f}, replicas {switches['replicas']:.2f}; replica "
                     f"direct {direct_rps:,.0f} req/s (mean of {len(full)} rounds)")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=pathlib.Path, help="bin folder of build A (e.g. the old one)")
    parser.add_argument("b", type=pathlib.Path, help="bin folder of build B")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--scenario", default="python-echo", choices=sorted(bench.SCENARIOS))
    parser.add_argument("--names", nargs=2, metavar=("A_NAME", "B_NAME"),
                        help="what the report calls the builds (default: their bin folders)")
    parser.add_argument("--out", help="report file (default bench/results/DATE-SHA-compare.md)")
    args = parser.parse_args()
    labels = {"A": args.names[0] if args.names else args.a.resolve(),
              "B": args.names[1] if args.names else args.b.resolve()}
    rows = []
    with tempfile.TemporaryDirectory(prefix="axon-compare-") as home:
        model_paths = bench.build_models([args.scenario], home)
        for round_ in range(args.rounds):
            for label, bin_dir in (("A", args.a), ("B", args.b)):
                run_build(rows, label, bin_dir, args.scenario, model_paths, args.seconds,
                          pathlib.Path(home) / f"{label}{round_}")
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=bench.ROOT).stdout.strip() or "unknown"
    day = datetime.date.today().isoformat()
    out = pathlib.Path(args.out or bench.BENCH / "results" / f"{day}-{sha}-compare.md")
    command = (f"bench/compare --rounds {args.rounds} --seconds {args.seconds} --scenario "
               f"{args.scenario} A_BIN_DIR B_BIN_DIR")
    report.write(out, rows, {}, summarize(rows, args.scenario, labels), [command],
                 f"Axon bench: two builds in turns, {day}, {sha}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
