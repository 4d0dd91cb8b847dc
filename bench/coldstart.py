"""bench/coldstart: scale from zero, alone. Deploys the cold-start scenarios with
`min_replicas: 0` on an isolated platform (the default reconcile tick) and, for each round,
times the first request after the API is at zero replicas to its answer, with the phases from
the operator's and the replica's logs (harness/coldstart.py). Given several bin folders, it
measures each build in turn, on its own platform, and reports them side by side; --up-args,
once per BIN_DIR, adds flags to that platform's `axon up` (the same build with and without a
setting).

    bench/coldstart [--rounds N] [--scenario NAME ...] [--names A,B,...]
                    [--up-args ARGS ...] [BIN_DIR ...]
"""
import argparse
import datetime
import pathlib
import shlex
import subprocess
import sys
import tempfile

import bench
from harness import coldstart, report


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dirs", nargs="*", default=[str(bench.ROOT / "build" / "bin")],
                        metavar="BIN_DIR", help="builds to measure (default build/bin)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--scenario", action="append", choices=bench.COLD_START,
                        help="default: all of " + ", ".join(bench.COLD_START))
    parser.add_argument("--names", help="a name per BIN_DIR for the report, comma-separated")
    parser.add_argument("--up-args", action="append",
                        help="flags for `axon up`, one string per BIN_DIR in order "
                             "(--up-args='--standby false' --up-args='')")
    parser.add_argument("--out", help="report file (default bench/results/<date>-<sha>-coldstart.md)")
    args = parser.parse_args()
    scenarios = args.scenario or bench.COLD_START
    names = args.names.split(",") if args.names else [str(b) for b in args.bin_dirs]
    if len(names) != len(args.bin_dirs):
        parser.error("--names needs one name per BIN_DIR")
    up_args = [shlex.split(a) for a in args.up_args] if args.up_args else [[]] * len(names)
    if len(up_args) != len(args.bin_dirs):
        parser.error("--up-args, when given, is given once per BIN_DIR")
    sections, failed = [], 0
    with tempfile.TemporaryDirectory(prefix="axon-coldstart-") as home:
        model_paths = bench.build_models(scenarios, home)
        for name, bin_dir, extra in zip(names, args.bin_dirs, up_args):
            print(f"cold start: {name} ({bin_dir} {' '.join(extra)}), {args.rounds} rounds",
                  flush=True)
            results = bench.run_cold_start(scenarios, args.rounds, pathlib.Path(bin_dir),
                                           pathlib.Path(home) / name.replace("/", "_"),
                                           model_paths, extra)
            failed += sum(x["errors"] for x in coldstart.summary(results).values())
            sections.append((f"{name}", coldstart.table(results) + "\n\nEvery round (ms): " +
                             "; ".join(f"{api} " + ", ".join(f"{x['total_ms']:.0f}"
                                                             for x in r["rounds"])
                                       for api, r in results.items())))
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench.ROOT, text=True,
                         capture_output=True).stdout.strip() or "nogit"
    today = datetime.date.today().isoformat()
    out = pathlib.Path(args.out) if args.out else bench.BENCH / "results" / f"{today}-{sha}-coldstart.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    m = report.machine()
    parts = [f"# Axon cold start, {today}, {sha}", "",
             f"Machine: {m['cores']} cores, {m['cpu']}, Linux {m['kernel']}.", "",
             "Command:", "", "```", shlex.join(["bench/coldstart", *sys.argv[1:]]), "```", "",
             "Phases (median over the rounds, each since the one before; see "
             "bench/README.md): " + ", ".join(coldstart.PHASES) + ".", ""]
    for heading, text in sections:
        parts += [f"## {heading}", "", text, ""]
    out.write_text("\n".join(parts))
    print(f"report: {out}")
    print("\n".join(parts[-2 * len(sections) - len(sections):]))
    if failed:
        print(f"bench: {failed} cold-start requests failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
