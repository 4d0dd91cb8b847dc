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

    bench/callgrind [--requests N] [--scenario NAME ...] [--keep-dumps DIR] [--out FILE]
"""
import argparse
import datetime
import http.client
import json
import os
import pathlib
import re
import shutil
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

    def __init__(self, argv, out_dir, name, env=None):
        self.out = pathlib.Path(out_dir) / f"callgrind.out.{name}"
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.out}",
             "--dump-instr=no", "--collect-jumps=no", *argv],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def control(self, *args):
        subprocess.run(["callgrind_control", *args, str(self.proc.pid)], check=True,
                       capture_output=True, timeout=120)

    def zero(self):
        self.control("--zero")

    def dump(self, poke):
        """Dumps the counters since zero(); returns the dump's file. Valgrind acts on the
        request only when a thread of the process next runs, so `poke()` (one cheap request)
        is called until the dump appears; its instructions are counted, a few in thousands."""
        before = set(self.out.parent.glob(self.out.name + ".*"))
        control = subprocess.Popen(["callgrind_control", "--dump", str(self.proc.pid)],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def dumped():
            if set(self.out.parent.glob(self.out.name + ".*")) - before:
                return True
            poke()
            return False

        try:
            servers.wait_until(dumped, 60, "the callgrind dump")
        except TimeoutError:
            control.kill()
            sys.stderr.write(f"callgrind_control: {control.communicate()[0]}\n"
                             f"files: {sorted(self.out.parent.iterdir())}\n")
            raise
        control.wait(timeout=120)
        return max(set(self.out.parent.glob(self.out.name + ".*")) - before,
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


def top_functions(dump, total):
    """(instructions, function) of the TOP_FUNCTIONS functions with most exclusive Ir.

    Zeroing the counters mid-run leaves the frames that were on each thread's stack then
    (thread start, the I/O loop) charged with everything below them; they are skipped."""
    thread_entry = re.compile(r"clone\.S:clone|start_thread|_State_impl<std::thread|"
                              r"posix_thread|thread_pool::thread_function|libstdc\+\+\.so[^ ]*\]$")
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", str(dump)],
                         check=True, capture_output=True, text=True, timeout=300).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if m and ":" in m.group(2) and not line.lstrip().startswith("Ir"):
            ir = int(m.group(1).replace(",", ""))
            name = m.group(2).strip()
            if ir < total * 0.5 and not (name.startswith("???:0x") and thread_entry.search(name)) \
                    and not thread_entry.search(name.split(" [", 1)[0]):
                rows.append((ir, name))
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


def measure(copy, port, path, body, requests, health_path, keep_as):
    send(port, path, body, min(200, requests))  # warm-up: connections, caches, lazy init
    copy.zero()
    send(port, path, body, requests)
    dump = copy.dump(lambda: ready(port, health_path))
    if keep_as is not None:
        keep_as.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dump, keep_as)
    total = total_instructions(dump)
    return total / requests, top_functions(dump, total)


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
            with Callgrind(argv, work, "gateway") as gateway:
                servers.wait_until(lambda: servers.port_open(port), 120, "the gateway copy")
                admin_put_routes(admin, token, routes)
                results[(scenario, "gateway")] = measure(gateway, port, f"/{scenario}", body,
                                                         args.requests, "/_axon/healthz",
                                                         kept(args, scenario, "gateway"))
                print(f"{scenario}: gateway {results[(scenario, 'gateway')][0]:,.0f} "
                      "Ir/request", flush=True)
            argv, port_file, env = replica_copy(platform, scenario, work)
            with Callgrind(argv, work, "replica", env=env) as copy:
                servers.wait_until(lambda: port_file.exists() and port_file.read_text().strip(),
                                   300, "the replica copy")
                replica_port = int(port_file.read_text())
                servers.wait_until(lambda: ready(replica_port), 300, "the replica copy to load")
                results[(scenario, "replica")] = measure(copy, replica_port, "/predict", body,
                                                         args.requests, "/healthz",
                                                         kept(args, scenario, "replica"))
            print(f"{scenario}: replica {results[(scenario, 'replica')][0]:,.0f} Ir/request",
                  flush=True)
    return results


def kept(args, scenario, process):
    """Where --keep-dumps puts a process's dump (None: not kept)."""
    if args.keep_dumps is None:
        return None
    return args.keep_dumps / f"callgrind.out.{scenario}.{process}"


def ready(port, path="/healthz"):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False


def write_report(results, args):
    # The commit of the checkout the binaries were built in, which --bin-dir may point outside.
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=args.bin_dir).stdout.strip() or "unknown"
    checkout = str(args.bin_dir.resolve().parent.parent) + "/"
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
            lines.append(f"| {ir / args.requests:,.0f} | `{fn.replace(checkout, '')[:140]}` |")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", type=pathlib.Path, default=bench.ROOT / "build" / "bin")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--scenario", action="append", choices=sorted(bench.SCENARIOS))
    parser.add_argument("--keep-dumps", type=pathlib.Path, metavar="DIR",
                        help="copy each callgrind dump to DIR (for callgrind_annotate)")
    parser.add_argument("--out", help="report file (default bench/results/DATE-SHA-callgrind.md)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="axon-callgrind-") as home:
        results = run(args, home)
    write_report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
