"""Starts and stops what bench/run measures: an isolated Axon platform, FastAPI/uvicorn
baselines and the bare server. Every process started here is stopped on exit."""
import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

BENCH_DIR = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc, grace=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class AxonPlatform:
    """`axon up` in a private AXON_HOME with free ports; `axon down` on exit. `up_args`: more
    flags for `axon up` (by default a reconcile tick of 100 ms, so that deploys settle fast)."""

    def __init__(self, bin_dir, home, up_args=("--tick-ms", "100")):
        self.bin_dir = pathlib.Path(bin_dir)
        self.home = pathlib.Path(home)
        self.up_args = list(up_args)
        self.env = dict(os.environ, AXON_HOME=str(self.home))
        self.gateway_port = free_port()
        self.operator_port = free_port()
        self.grpc_port = free_port()

    def axon(self, *args):
        return subprocess.run([str(self.bin_dir / "axon"), *args], env=self.env, check=True,
                              capture_output=True, text=True, timeout=120).stdout

    def __enter__(self):
        args = ["up", "--port", str(self.operator_port), "--gateway-port", str(self.gateway_port),
                *self.up_args]
        if "--grpc-port" in self.axon("up", "--help"):  # builds before the gRPC port have none
            args += ["--grpc-port", str(self.grpc_port)]
        self.axon(*args)
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(Exception):
            self.axon("down")

    def deploy(self, spec_file, names):
        self.axon("deploy", str(spec_file))
        wait_until(lambda: all(self.describe(n)["status"] == "live" for n in names), 60,
                   f"{', '.join(names)} to be live")

    def describe(self, name):
        return json.loads(self.axon("get", name, "-o", "json"))

    def pid(self, process):
        state = self.home / "run" / "gateway.json"  # the gateway's pid with its start time
        if process == "gateway" and state.exists():
            return json.loads(state.read_text())["pid"]
        return int((self.home / "run" / f"{process}.pid").read_text())


@contextlib.contextmanager
def fastapi(predictor, workers):
    port = free_port()
    # One BLAS/OpenMP thread per worker, as Axon gives its replicas (intra_op_threads: 1).
    env = dict(os.environ, AXON_BENCH_PREDICTOR=str(predictor), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-m", "uvicorn", "fastapi_app:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--http", "httptools", "--loop",
         "uvloop", "--log-level", "warning", "--no-access-log"],
        cwd=BENCH_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, 30, "uvicorn")
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {proc.stderr.read().decode()}")
        time.sleep(1.0 if workers > 1 else 0.2)  # let every worker import the app
        yield port, proc.pid
    finally:
        stop(proc)


@contextlib.contextmanager
def bare_server(bin_dir):
    proc = subprocess.Popen([str(pathlib.Path(bin_dir) / "axon-bench-bare-server"), "0", "2"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield port, proc.pid
    finally:
        stop(proc)
