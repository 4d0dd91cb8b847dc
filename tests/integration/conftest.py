"""Shared fixtures of the integration tests: a real Axon platform per test.

Every test that takes the `platform` fixture gets its own AXON_HOME under tmp_path and three
free ports (operator, gateway HTTP, gateway gRPC), runs `axon up` against them, and at teardown runs `axon down` and then kills (by
pid) any process of that platform that is still alive. The processes of a platform are found
by their environment: the operator inherits AXON_HOME from `axon up`, and the gateway and the
replicas inherit it from the operator, so /proc/PID/environ names the platform exactly.

Run with Debian's Python: /usr/bin/python3 -m pytest tests/integration
"""

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
import requests

BIN_DIR = Path(os.environ.get("AXON_BIN_DIR", "/work/main/build/bin"))
AXON = BIN_DIR / "axon"

# Every wait in the suite is bounded by one of these (seconds).
CLI_TIMEOUT = 60
HTTP_TIMEOUT = 10
READY_TIMEOUT = 20


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "up_args(*args): extra flags for `axon up` of the platform fixture")


def free_ports(n):
    """n distinct ports that were free a moment ago (bound to port 0 together)."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def axon_env(home):
    env = dict(os.environ)
    # The replicas embed Debian's libpython; a pyenv PYTHONHOME/PYTHONPATH would confuse it.
    for key in ("PYTHONHOME", "PYTHONPATH"):
        env.pop(key, None)
    env["AXON_HOME"] = str(home)
    return env


def run_axon(home, *args, cwd=None, timeout=CLI_TIMEOUT, input=None):
    """Runs one `axon` verb; returns the CompletedProcess (text, both streams captured)."""
    return subprocess.run([str(AXON), *map(str, args)], env=axon_env(home), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, input=input)


def wait_for(condition, timeout=READY_TIMEOUT, interval=0.05, message="condition"):
    """Polls condition() until it returns something other than None or False; returns that.

    (Not "truthy": a requests.Response with a 4xx/5xx status is falsy but is a result.)

    Raises AssertionError after `timeout` seconds, with the last value (or exception) seen.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = condition()
            if last is not None and last is not False:
                return last
        except (requests.RequestException, OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}; "
                                 f"last value: {last!r}")
        time.sleep(interval)


def pid_alive(pid):
    """True if pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def platform_pids(home):
    """Pids of live processes whose environment has AXON_HOME=home."""
    marker = b"\0AXON_HOME=" + str(home).encode() + b"\0"
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = b"\0" + f.read()
        except OSError:  # gone, or another user's
            continue
        if marker in environ and pid_alive(int(entry)):
            pids.append(int(entry))
    return pids


# A Python predictor whose answer the request picks: "refuse" is a 400, "fail" a 500, anything
# else 200 {"ok": payload}.
OUTCOME_PREDICTOR = """\
    class Refused(Exception):
        status_code = 400

    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            if payload == "refuse":
                raise Refused("asked to refuse")
            if payload == "fail":
                raise RuntimeError("asked to fail")
            return {"ok": payload}
    """


def write_api(directory, name, predictor_source, spec_extra="", file_name="axon.yaml"):
    """Writes DIRECTORY/predictor.py and a one-API spec DIRECTORY/FILE_NAME; returns the spec.

    `spec_extra` is appended verbatim after the predictor's `path:` line, so lines indented by
    two spaces add predictor fields and unindented lines add top-level sections.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "predictor.py").write_text(textwrap.dedent(predictor_source))
    spec = directory / file_name
    spec.write_text(textwrap.dedent(f"""\
        name: {name}
        kind: RealtimeAPI
        predictor:
          type: python
          path: predictor.py
        """) + spec_extra)
    return spec


class Platform:
    """One running local platform: its AXON_HOME, addresses and helpers to drive it."""

    def __init__(self, home, work_dir, operator_port, gateway_port, grpc_port):
        self.home = Path(home)
        self.work_dir = Path(work_dir)
        self.operator_port = operator_port
        self.gateway_port = gateway_port
        self.grpc_port = grpc_port
        self.gateway_url = f"http://127.0.0.1:{gateway_port}"
        self.operator_url = f"http://127.0.0.1:{operator_port}"
        self.http = requests.Session()

    # --- the CLI -----------------------------------------------------------------------

    def axon(self, *args, cwd=None, timeout=CLI_TIMEOUT, input=None):
        return run_axon(self.home, *args, cwd=cwd or self.work_dir, timeout=timeout,
                        input=input)

    def axon_ok(self, *args, **kwargs):
        """Runs a verb that must succeed; returns its stdout."""
        result = self.axon(*args, **kwargs)
        assert result.returncode == 0, (
            f"axon {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result.stdout

    def up(self, *extra):
        return self.axon("up", "--port", self.operator_port, "--gateway-port",
                         self.gateway_port, "--grpc-port", self.grpc_port, "--tick-ms", 100,
                         "--drain-ms", 3000, *extra)

    # --- the management API --------------------------------------------------------------

    def token(self):
        return (self.home / "token").read_text()

    def management(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        token = self.token() if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.operator_url + path, headers=headers,
                                timeout=HTTP_TIMEOUT, **kwargs)

    def describe(self, name):
        """The management API's view of one API (status, replicas with pids, statistics)."""
        res = self.management("GET", f"/v1/apis/{name}")
        assert res.status_code == 200, res.text
        return res.json()

    def ready_pids(self, name):
        return sorted(r["pid"] for r in self.describe(name)["replicas"]
                      if r["state"] == "ready")

    def wait_live(self, name, timeout=READY_TIMEOUT):
        """Waits until the API is live with every requested replica ready; returns describe."""
        def live():
            api = self.describe(name)
            ready = [r for r in api["replicas"] if r["state"] == "ready"]
            return api if (api["status"] == "live" and len(ready) == api["requested"]
                           and len(api["replicas"]) == api["requested"]) else None
        return wait_for(live, timeout, message=f"api {name} to be live")

    def wait_status(self, name, status, timeout=READY_TIMEOUT):
        return wait_for(lambda: (api := self.describe(name))["status"] == status and api,
                        timeout, message=f"api {name} to have status {status}")

    # --- the gateway -------------------------------------------------------------------

    def predict(self, endpoint, body=None, content_type="application/json", method="POST",
                headers=None, params=None, timeout=HTTP_TIMEOUT):
        """Sends one request to the gateway. A dict/list body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if content_type is not None and body is not None:
            headers.setdefault("Content-Type", content_type)
        return self.http.request(method, self.gateway_url + endpoint, data=body,
                                 headers=headers, params=params, timeout=timeout)

    def predict_when_routed(self, endpoint, *args, timeout=READY_TIMEOUT, **kwargs):
        """predict(), retried while the gateway has no ready replica for the API yet.

        The operator can report "live" a moment before the gateway has its new route table.
        """
        def attempt():
            res = self.predict(endpoint, *args, **kwargs)
            no_replica = res.status_code == 503 and "no ready replica" in res.text
            return None if no_replica else res
        return wait_for(attempt, timeout, message=f"a routed answer from {endpoint}")

    def deploy(self, spec):
        """`axon deploy --no-wait`: returns once the operator accepted the spec (tests then
        wait for what they need, or check a failure)."""
        return self.axon_ok("deploy", "--no-wait", spec)

    # --- the gateway's admin listener (an abstract Unix socket only the operator uses) ---------

    def gateway_state(self):
        """run/gateway.json: the gateway's pid, start time and admin address."""
        return json.loads((self.home / "run" / "gateway.json").read_text())

    def gateway_pid(self):
        return self.gateway_state()["pid"]

    def gateway_admin_raw(self, method, path, body=b"", token=None):
        """One HTTP exchange with the gateway's admin listener; returns (status, body bytes)."""
        address = self.gateway_state()["admin_listen"]
        assert address.startswith("@"), address
        token = self.token() if token is None else token
        head = (f"{method} {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(HTTP_TIMEOUT)
            s.connect("\0" + address[1:])
            s.sendall(head.encode() + body)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]

    def gateway_admin(self, method, path, body=b"", token=None):
        """One HTTP exchange with the gateway's admin listener; returns (status, parsed JSON)."""
        status, payload = self.gateway_admin_raw(method, path, body, token)
        return status, json.loads(payload or b"null")

    def gateway_stats(self):
        status, stats = self.gateway_admin("GET", "/_axon/stats")
        assert status == 200, stats
        return stats["apis"]

    def wait_routed(self, name, timeout=10):
        """Waits until the gateway's route table has the API (deploy returns before the push)."""
        wait_for(lambda: name in self.gateway_stats(), timeout=timeout,
                 message=f"api {name} in the gateway's routes")

    # --- teardown ------------------------------------------------------------------------

    def kill_leftovers(self):
        """SIGKILLs every process of this platform still alive; returns their pids.

        Only processes whose environment names this AXON_HOME are touched, so a recycled pid
        or another test's platform is never hit.
        """
        leftovers = platform_pids(self.home)
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not any(pid_alive(p) for p in leftovers), timeout=5,
                 message="killed leftovers to exit")
        return leftovers


@pytest.fixture
def platform(request, tmp_path):
    """A running platform; `axon up` flags can be added with @pytest.mark.up_args(...)."""
    home = tmp_path / "axon-home"
    work = tmp_path / "work"
    work.mkdir()
    operator_port, gateway_port, grpc_port = free_ports(3)
    p = Platform(home, work, operator_port, gateway_port, grpc_port)
    marker = request.node.get_closest_marker("up_args")
    extra = [str(a) for a in marker.args] if marker else []
    result = p.up(*extra)
    p.up_output = result.stdout
    try:
        assert result.returncode == 0, f"axon up failed: {result.stdout}{result.stderr}"
        wait_for(lambda: requests.get(p.gateway_url + "/_axon/healthz", timeout=1).ok,
                 timeout=10, message="the gateway to answer")
        yield p
    finally:
        down = p.axon("down")
        leftovers = p.kill_leftovers()
        p.http.close()
        if down.returncode == 0 and leftovers:
            pytest.fail(f"processes {leftovers} survived `axon down`", pytrace=False)


@pytest.fixture
def axon_home(tmp_path):
    """An AXON_HOME with no platform running, whose saved addresses point at free ports."""
    home = tmp_path / "axon-home"
    home.mkdir()
    operator_port, gateway_port, grpc_port = free_ports(3)
    (home / "platform.json").write_text(json.dumps({
        "operator_host": "127.0.0.1", "operator_port": operator_port,
        "gateway_host": "127.0.0.1", "gateway_port": gateway_port, "grpc_port": grpc_port}))
    return home
