"""`axon logs` on a real platform: JSON lines from every process, the human format, -f across
a replica killed with SIGKILL, --since, --replica, -o json, and request logging."""

import datetime
import json
import os
import signal
import subprocess
import threading

from conftest import AXON, axon_env, wait_for, write_api

PRINTER = """\
    import os


    class PythonPredictor:
        def __init__(self, config):
            print(f"loaded in {os.getpid()} as {os.environ['AXON_REPLICA_ID']}", flush=True)

        def predict(self, payload):
            if payload.get("fail"):
                raise ValueError("asked to fail")
            print(f"predict {payload['marker']}", flush=True)
            return {"pid": os.getpid()}
    """


def json_lines(text):
    """Every line of `axon logs -o json` output, parsed (each must be JSON)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Follower:
    """`axon logs NAME -f` in the background; collects its stdout lines."""

    def __init__(self, platform, *args):
        self.process = subprocess.Popen([str(AXON), "logs", *args, "-f"],
                                        env=axon_env(platform.home), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def wait_for_text(self, needle, timeout=20):
        return wait_for(lambda: needle in self.text(), timeout=timeout,
                        message=f"`axon logs -f` to print {needle!r}")

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.reader.join(timeout=10)


def deploy(platform, name, source=PRINTER, spec_extra=""):
    spec = write_api(platform.work_dir / name, name, source, spec_extra)
    platform.deploy(spec)
    return platform.wait_live(name)


def test_follow_goes_on_across_a_replica_killed_with_sigkill(platform):
    first = deploy(platform, "printer")["replicas"][0]
    follower = Follower(platform, "printer")
    try:
        assert platform.predict_when_routed("/printer", {"marker": "before-kill"}).ok
        follower.wait_for_text("predict before-kill")
        os.kill(first["pid"], signal.SIGKILL)
        second = wait_for(lambda: (r := platform.describe("printer")["replicas"][0])["state"]
                          == "ready" and r["pid"] != first["pid"] and r, timeout=20,
                          message="the killed replica to be restarted")
        assert platform.predict_when_routed("/printer", {"marker": "after-kill"}).ok
        follower.wait_for_text("predict after-kill")
        follower.wait_for_text(f"loaded in {second['pid']}")
    finally:
        follower.stop()
    text = follower.text()
    assert text.index("predict before-kill") < text.index("predict after-kill")
    # The follower prints the human format: no JSON braces, the replica's id on each line.
    line = next(l for l in follower.lines if "predict after-kill" in l)
    assert not line.startswith("{") and second["id"] in line, line
    # Every replica of the API restarted; its log still has the lines from before.
    logs = platform.axon_ok("logs", "printer", "--tail", "1000")
    assert "predict before-kill" in logs and "predict after-kill" in logs
    assert f"loaded in {first['pid']}" in logs and f"loaded in {second['pid']}" in logs


def test_json_output_and_the_replica_filter(platform):
    api = deploy(platform, "pair", spec_extra="autoscaling:\n  min_replicas: 2\n")
    ids = sorted(r["id"] for r in api["replicas"])
    assert len(ids) == 2
    wait_for(lambda: all(f"as {i}" in platform.axon_ok("logs", "pair") for i in ids),
             timeout=10, message="both replicas' first lines")

    lines = json_lines(platform.axon_ok("logs", "pair", "-o", "json", "--tail", "1000"))
    for line in lines:
        assert {"time", "level", "message"} <= line.keys(), line
        assert line["api"] == "pair" and line["version"] == 1 and line["replica"] in ids, line
    loaded = [l for l in lines if l["message"].startswith("loaded in ")]
    assert {l["replica"] for l in loaded} == set(ids)
    assert all(l["stream"] == "stdout" and l["source"] == "replica" for l in loaded)
    assert any(l["message"] == "ready" and l["level"] == "info" for l in lines)  # C++ lines too

    only = json_lines(platform.axon_ok("logs", "pair", "-o", "json", "--replica", ids[0]))
    assert only and {l["replica"] for l in only} == {ids[0]}
    assert any(l["message"].endswith(f"as {ids[0]}") for l in only)
    human = platform.axon_ok("logs", "pair", "--replica", ids[1])
    assert f"as {ids[1]}" in human and f"as {ids[0]}" not in human
    assert platform.axon_ok("logs", "pair", "--replica", "pair-nosuchid") == ""


BYTES_PRINTER = """\
    import sys


    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            sys.stdout.buffer.write(f"bytes {payload['marker']} caf".encode() + b"\\xc3")
            sys.stdout.buffer.write(b"\\xa9\\n")  # a character split across two writes
            sys.stdout.buffer.flush()
            print(f"after {payload['marker']}", flush=True)
            return {"ok": True}
    """


def test_bytes_written_to_stdout_buffer_become_lines(platform):
    # Regression: sys.stdout had no .buffer, so a predictor writing bytes to it failed.
    deploy(platform, "bytes", source=BYTES_PRINTER)
    answer = platform.predict_when_routed("/bytes", {"marker": "m1"},
                                          headers={"X-Request-ID": "req-bytes-1"})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: "after m1" in platform.axon_ok("logs", "bytes"), timeout=10,
             message="the predictor's lines")
    lines = json_lines(platform.axon_ok("logs", "bytes", "-o", "json", "--tail", "1000"))
    written = [l for l in lines if l["message"].startswith("bytes m1")]
    assert [l["message"] for l in written] == ["bytes m1 caf\u00e9"], lines
    assert written[0]["request_id"] == "req-bytes-1" and written[0]["stream"] == "stdout"
    after = [l for l in lines if l["message"] == "after m1"]
    assert len(after) == 1 and after[0]["request_id"] == "req-bytes-1", after


def test_since_keeps_the_recent_lines(platform):
    deploy(platform, "since")
    assert platform.predict_when_routed("/since", {"marker": "recent"}).ok
    wait_for(lambda: "predict recent" in platform.axon_ok("logs", "since"), timeout=10,
             message="the predict line")
    # A line written 3 hours ago (as a replica of an earlier day would have), and one that is
    # not JSON (a native library printing to the replica's stderr), which goes with it.
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=3)
    stamp = old.strftime("%Y-%m-%dT%H:%M:%S.") + f"{old.microsecond // 1000:03d}Z"
    log = platform.home / "logs" / "since.log"
    content = log.read_text()
    log.write_text(json.dumps({"time": stamp, "level": "info", "replica": "since-old",
                               "message": "three hours ago"}) + "\nraw after the old line\n"
                   + content)

    for since in ("10m", "30s", "2h"):
        out = platform.axon_ok("logs", "since", "--since", since)
        assert "predict recent" in out, (since, out)
        assert "three hours ago" not in out and "raw after the old line" not in out, since
    everything = platform.axon_ok("logs", "since", "--since", "4h")
    assert "three hours ago" in everything and "raw after the old line" in everything
    assert everything.index("three hours ago") < everything.index("predict recent")
    # Without filters the raw line is shown as it is.
    assert "\nraw after the old line\n" in platform.axon_ok("logs", "since", "--tail", "1000")
    # --since with --tail: the last N of the lines since then.
    assert len(platform.axon_ok("logs", "since", "--since", "4h", "--tail", "2")
               .splitlines()) == 2

    for bad, phrase in (("10", 'needs a unit: write e.g. "10s"'), ("soon", "a duration"),
                        ("-5m", "must not be negative")):
        res = platform.axon("logs", "since", "--since", bad)
        assert res.returncode == 2, res
        assert f"--since: " in res.stderr and phrase in res.stderr, res.stderr
        assert f'got "{bad}"' in res.stderr


REQUEST_LOGGING = "logging:\n  requests: true\n"


def request_lines(platform, name):
    """The gateway's lines in the API's log; --since reads the whole file (--tail alone reads
    its last 64 KiB)."""
    out = platform.axon_ok("logs", name, "-o", "json", "--since", "1h")
    return [l for l in json_lines(out) if l.get("source") == "gateway"]


def test_request_logging_writes_one_line_per_request_without_the_body(platform):
    api = deploy(platform, "audited", spec_extra=REQUEST_LOGGING)
    replica = api["replicas"][0]
    secret = "body-secret-4417"
    sent = {}
    for i in range(20):
        res = platform.predict_when_routed("/audited", {"marker": f"{secret}-{i}"},
                                           headers={"X-Request-ID": f"audit-{i}"}
                                           if i % 2 == 0 else {})
        assert res.status_code == 200
        sent[res.headers["X-Request-ID"]] = 200
    res = platform.predict("/audited", {"fail": True, "marker": secret})
    assert res.status_code == 500
    sent[res.headers["X-Request-ID"]] = 500
    res = platform.predict("/audited?x=1", {"marker": secret}, method="GET")  # no get(): 405
    sent[res.headers["X-Request-ID"]] = res.status_code

    lines = request_lines(platform, "audited")
    assert len(lines) == len(sent) == 22
    assert {l["request_id"]: l["status"] for l in lines} == sent
    for line in lines:
        assert line["message"] == "request" and line["api"] == "audited", line
        assert line["path"] == "/audited" and line["method"] in ("POST", "GET"), line
        assert isinstance(line["latency_ms"], (int, float)) and line["latency_ms"] >= 0, line
        assert line["replica"] == replica["id"] and line["version"] == 1, line
    log_text = (platform.home / "logs" / "audited.log").read_text()
    request_log = "\n".join(json.dumps(l) for l in lines)
    assert secret not in request_log
    # The predictor's own print of that request carries the same id.
    printed = [l for l in json_lines(platform.axon_ok("logs", "audited", "-o", "json",
                                                      "--tail", "1000"))
               if l["message"] == f"predict {secret}-0"]
    assert printed and printed[0]["request_id"] == "audit-0"
    assert "audit-0" in log_text
    # The human format shows the request's fields.
    human = platform.axon_ok("logs", "audited", "--tail", "1")
    assert "request request_id=" in human and "status=" in human and "latency_ms=" in human


def test_request_logging_is_off_by_default_and_samples(platform):
    deploy(platform, "quiet")
    for _ in range(5):
        assert platform.predict_when_routed("/quiet", {"marker": "q"}).ok
    assert request_lines(platform, "quiet") == []

    deploy(platform, "sampled", spec_extra=REQUEST_LOGGING + "  sample: 0.5\n")
    for _ in range(200):
        assert platform.predict_when_routed("/sampled", {"marker": "s"}).ok
    logged = len(request_lines(platform, "sampled"))
    assert 0 < logged < 200, logged  # each of 200 requests has a 1 in 2 chance


def test_a_bad_logging_field_is_rejected_with_its_line(platform):
    spec = write_api(platform.work_dir / "bad", "bad", PRINTER,
                     "logging:\n  requests: true\n  sample: 2\n")
    res = platform.axon("deploy", spec)
    assert res.returncode == 2, res
    assert "axon.yaml:8:" in res.stderr and "logging.sample" in res.stderr, res.stderr
    assert "<= 1" in res.stderr


def test_operator_and_gateway_write_json_lines(platform):
    deploy(platform, "plain")
    for name, source in (("operator.log", "operator"), ("gateway.log", "gateway")):
        lines = [json.loads(l) for l in
                 (platform.home / "logs" / name).read_text().splitlines() if l.strip()]
        assert lines, name
        assert all(l["source"] == source and l["level"] and "time" in l for l in lines), name
