"""type: command: a server of one's own (Python's http.server here) as the API's replicas."""

import json
import os

from conftest import wait_for

SERVER = """\
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "v1"


class Handler(BaseHTTPRequestHandler):
    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ready":
            return self._answer(200, {"ready": True})
        self._answer(200, {"method": "GET", "path": self.path, "version": VERSION,
                           "pid": os.getpid()})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if body == b"fail":
            return self._answer(418, {"error": "teapot"})
        self._answer(200, {"method": "POST", "path": self.path, "body": body.decode(),
                           "version": VERSION, "pid": os.getpid(),
                           "request_id": self.headers.get("X-Request-ID")})

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["AXON_PORT"])), Handler).serve_forever()
"""


def write_spec(folder, replicas=1, command="[/usr/bin/python3, server.py]"):
    spec = folder / "axon.yaml"
    spec.write_text(f"""\
name: own
kind: RealtimeAPI
predictor:
  type: command
  command: {command}
  readiness_path: /ready
  threads_per_process: 4
autoscaling:
  init_replicas: {replicas}
  min_replicas: {replicas}
""")
    return spec


def test_a_command_api_is_deployed_scaled_and_updated(platform):
    folder = platform.work_dir / "own"
    folder.mkdir()
    (folder / "server.py").write_text(SERVER)
    spec = write_spec(folder)
    assert "created api own (version 1)" in platform.deploy(spec)
    platform.wait_live("own")

    res = platform.predict_when_routed("/own", "hello", content_type="text/plain",
                                       params={"a": "1"}, headers={"X-Request-ID": "abc"})
    assert res.status_code == 200, res.text
    answer = res.json()
    assert answer["method"] == "POST" and answer["body"] == "hello"
    assert answer["path"] == "/?a=1" and answer["request_id"] == "abc"
    assert answer["version"] == "v1"
    assert platform.predict("/own", method="GET").json()["method"] == "GET"
    failed = platform.predict("/own", "fail", content_type="text/plain")
    assert failed.status_code == 418 and failed.json() == {"error": "teapot"}
    # The server is the replica's child, with its own pid, and ran with $AXON_PORT.
    replica = platform.describe("own")["replicas"][0]
    assert answer["pid"] != replica["pid"]
    with open(f"/proc/{answer['pid']}/environ", "rb") as f:
        assert b"AXON_PORT=" in f.read()

    # Scaled: two replicas, two servers.
    write_spec(folder, replicas=2)
    platform.deploy(spec)
    platform.wait_live("own")
    pids = wait_for(lambda: (p := {platform.predict("/own", "x", content_type="text/plain")
                                   .json()["pid"] for _ in range(20)}) and len(p) == 2 and p,
                    message="answers from two servers")
    assert len(pids) == 2

    # Updated: a new version of the server replaces every replica; the old servers stop.
    (folder / "server.py").write_text(SERVER.replace('VERSION = "v1"', 'VERSION = "v2"'))
    platform.deploy(spec)
    wait_for(lambda: platform.predict("/own", "x", content_type="text/plain")
             .json()["version"] == "v2", timeout=30, message="version 2 to answer")
    platform.wait_live("own")
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}") and
                             b"Z" not in open(f"/proc/{p}/stat", "rb").read().split(b")")[1][:3]
                             for p in pids), timeout=15, message="the old servers to stop")


def test_a_command_that_exits_puts_the_api_in_error(platform):
    folder = platform.work_dir / "own"
    folder.mkdir()
    (folder / "server.py").write_text("import sys\nprint('no port for me')\nsys.exit(3)\n")
    platform.deploy(write_spec(folder))
    api = platform.wait_status("own", "error", timeout=30)
    assert api["reason"].startswith(
        "predictor.command: the command exited (exit code 3) before it was ready"), api["reason"]
    assert "no port for me" in platform.axon_ok("logs", "own")


def test_a_missing_program_is_reported(platform):
    folder = platform.work_dir / "own"
    folder.mkdir()
    platform.deploy(write_spec(folder, command="[no-such-program-42]"))
    api = platform.wait_status("own", "error", timeout=30)
    assert api["reason"] == ('predictor.command: program "no-such-program-42" not found on '
                             'PATH; give its path, or install it')
    assert json.dumps(api)  # describe stays valid JSON
