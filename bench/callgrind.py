"""bench/callgrind: instructions per request of the gateway and of a replica, counted by
valgrind's callgrind. Unlike requests/s on a shared machine, these counts repeat to a fraction
of a percent from run to run, so a change to the data path can be judged by them alone.

It starts an isolated platform and deploys the scenarios (as bench/run does), then, per
scenario, starts a second copy of the gateway and of one replica under callgrind, with the
flags the operator gave the real ones (read from /proc) but their own ports. The gateway copy
gets the platform's route table on its own admin socket, so it forwards to the platform's real
replicas. After a warm-up, the counters are zeroed, N requests are sent one at a time over one
keep-alive connection, and the counters are dumped: instructions / N is the figure, the whole
process (every thread) included. The top functions by exclusive instructions go in the report.

    bench/callgrind [--requests N] [--scenario NAME ...] [--out FILE]
"""
import argparse
import datetime
import http.client
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time

import bench
from harness import servers

TOP_FUNCTIONS = 12


def cmdline(pid):
    return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def replace_flags(argv, changes):
    """argv with each `--flag value` in `changes` replaced (or appended)."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] in changes:
            i += 2
            continue
        out.append(argv[i])
        i += 1
    for flag, value in changes.items():
        out += [flag, str(value)]
    return out


class Callgrind:
    """A process under callgrind with collection off until zero(); killed on exit."""

    def __init__(self, argv, out_dir, env=None):
        self.out = pathlib.Path(out_dir) / "callgrind.out"
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.out}",
             "--dump-instr=no", "--collect-jumps=no", *argv],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def control(self, *args):
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True,
                       capture_output=True, timeout=120)

    def zero(self):
        self.control("--zero")

    def dump(self):
        """Dumps the counters since zero(); returns the dump's file."""
        before = set(self.out.parent.glob("callgrind.out*"))
        self.control("--dump")
        servers.wait_until(lambda: set(self.out.parent.glob("callgrind.out*")) - before, 60,
                           "the callgrind dump")
        return max(set(self.out.parent.glob("callgrind.out*")) - before,
                   key=lambda p: p.stat().st_mtime)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        servers.stop(self.proc, grace=30)


def total_instructions(dump):
    for line in dump.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"{dump} has no totals")


def top_functions(dump):
    """(instructions, function) of the TOP_FUNCTIONS functions with most exclusive Ir."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", str(dump)], check=True,
                         capture_output=True, text=True, timeout=300).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if m and ":" in m.group(2) and not line.lstrip().startswith("Ir"):
            rows.append((int(m.group(1).replace(",", "")), m.group(2).strip()))
    return rows[:TOP_FUNCTIONS]


def send(port, path, body, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for _ in range(count):
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            res = conn.getresponse()
            res.read()
            if res.status != 200:
                raise RuntimeError(f"POST {path} answered {res.status}")
    finally:
        conn.close()


def admin_put_routes(admin_listen, token, routes):
    """PUT /_axon/routes on an abstract Unix socket ("@name")."""
    body = json.dumps(routes).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect("\0" + admin_listen[1:])
        s.sendall(b"PUT /_axon/routes HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                  b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: "
                  b"application/json\r\nContent-Length: " + str(len(body)).encode() +
                  b"\r\n\r\n" + body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    if b" 200 " not in answer.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"the route table was refused: {answer[:300]!r}")


def measure(copy, port, path, body, requests):
    send(port, path, body, min(200, requests))  # warm-up: connections, caches, lazy init
    copy.zero()
    send(port, path, body, requests)
    dump = copy.dump()
    return total_instructions(dump) / requests, top_functions(dump)


def gateway_copy(platform, work):
    argv = cmdline(platform.pid("gateway"))
    port = servers.free_port()
    admin = f"@axon-bench-callgrind-{os.getpid()}"
    argv = replace_flags(argv, {"--port": port, "--admin-listen": admin, "--grpc-port": 0,
                                "--routes-file": work / "routes.json", "--threads": 1})
    return argv, port, admin


def replica_copy(platform, scenario, work):
    replica = platform.describe(scenario)["replicas"][0]
    argv = cmdline(replica["pid"])
    port_file = work / f"{scenario}.port"
    argv = replace_flags(argv, {"--port": 0, "--port-file": port_file,
                                "--unix-socket": f"@axon-bench-callgrind-{scenario}",
                                "--error-file": work / f"{scenario}.error",
                                "--replica-id": f"{scenario}-callgrind"})
    return argv, port_file, replica_env(replica["pid"])


def replica_env(pid):
    """The environment the operator gave a replica (AXON_*, thread counts, the spec's env)."""
    pairs = pathlib.Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def run(args, home):
    scenarios = args.scenario or ["python-echo", "mlp-torchscript"]
    model_paths = bench.build_models(scenarios, home)
    spec = pathlib.Path(home) / "bench.yaml"
    spec.write_text(bench.spec_yaml(scenarios, model_paths))
    results = {}
    with servers.AxonPlatform(args.bin_dir, pathlib.Path(home) / "axon") as platform:
        platform.deploy(spec, scenarios)
        token = (platform.home / "token").read_text().strip()
        routes = json.loads((platform.home / "run" / "routes.json").read_text())
        for scenario in scenarios:
            work = pathlib.Path(tempfile.mkdtemp(prefix=f"{scenario}-", dir=home))
            body = bench.SCENARIOS[scenario]["body"]
            argv, port, admin = gateway_copy(platform, work)
            with Callgrind(argv, work) as gateway:
                servers.wait_until(lambda: servers.port_open(port), 120, "the gateway copy")
                admin_put_routes(admin, token, routes)
                results[(scenario, "gateway")] = measure(gateway, port, f"/{scenario}", body,
                                                         args.requests)
            argv, port_file, env = replica_copy(platform, scenario, work)
            with Callgrind(argv, work, env=env) as copy:
                servers.wait_until(lambda: port_file.exists() and port_file.read_text().strip(),
                                   300, "the replica copy")
                replica_port = int(port_file.read_text())
                servers.wait_until(lambda: ready(replica_port), 300, "the replica copy to load")
                results[(scenario, "replica")] = measure(copy, replica_port, "/predict", body,
                                                         args.requests)
            print(f"{scenario}: gateway {results[(scenario, 'gateway')][0]:,.0f} Ir/request, "
                  f"replica {results[(scenario, 'replica')][0]:,.0f} Ir/request", flush=True)
    return results


def ready(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def write_report(results, args):
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=bench.ROOT).stdout.strip() or "unknown"
    day = datetime.date.today().isoformat()
    out = pathlib.Path(args.out or bench.BENCH / "results" / f"{day}-{sha}-callgrind.md")
    lines = [f"# callgrind: instructions per request ({day}, {sha})", "",
             f"`bench/callgrind --requests {args.requests}`: {args.requests} sequential requests "
             "over one keep-alive connection after a warm-up; every thread of the process "
             "counted. Gateway: one I/O thread, forwarding to the platform's real replicas.", "",
             "| scenario | process | instructions / request |", "| --- | --- | ---: |"]
    for (scenario, process), (per_request, _) in results.items():
        lines.append(f"| {scenario} | {process} | {per_request:,.0f} |")
    for (scenario, process), (per_request, top) in results.items():
        lines += ["", f"## {scenario}, {process}: top functions (exclusive)", "",
                  "| Ir / request | function |", "| ---: | --- |"]
        for ir, fn in top:
            lines.append(f"| {ir / args.requests:,.0f} | `{fn[:140]}` |")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", type=pathlib.Path, default=bench.ROOT / "build" / "bin")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--scenario", action="append", choices=sorted(bench.SCENARIOS))
    parser.add_argument("--out", help="report file (default bench/results/DATE-SHA-callgrind.md)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="axon-callgrind-") as home:
        results = run(args, home)
    write_report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
