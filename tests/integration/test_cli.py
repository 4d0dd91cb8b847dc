"""The `axon` command line: verbs, output formats, messages and exit codes."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import AXON, axon_env, free_ports, platform_pids, run_axon, write_api

# Exit codes from src/cli/platform_client.h.
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_RUNNING = 3

VERBS = ["up", "down", "dashboard", "version", "deploy", "get", "describe", "logs", "refresh",
         "rollback", "delete", "predict", "completion", "env", "cluster"]

TABLE_COLUMNS = ["api", "status", "up-to-date", "requested", "last update", "avg request",
                 "p50", "p99", "req/s", "2XX", "4XX", "5XX"]

ECHO_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            if payload == "fail":
                raise RuntimeError("asked to fail")
            return {"echo": payload}
    """


def table_rows(text):
    """`axon get` table -> (header line, {api: [cells]}). Cells are split on 2+ spaces."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = {}
    for line in lines[1:]:
        if line.startswith("endpoint:") or line.startswith("reason:"):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return lines[0], rows


def deploy_echo(platform, name="echo"):
    spec = write_api(platform.work_dir / name, name, ECHO_PREDICTOR)
    platform.deploy(spec)
    platform.wait_live(name)
    return spec


@pytest.mark.parametrize("verb", VERBS)
def test_help_works_on_every_verb(axon_home, verb):
    res = run_axon(axon_home, verb, "--help")
    assert res.returncode == 0, res.stderr
    assert re.search(rf"^Usage: \S*axon {verb}\b", res.stdout, re.M), res.stdout
    assert "-h,--help" in res.stdout
    assert res.stderr == ""


def test_top_level_help_lists_every_verb(axon_home):
    res = run_axon(axon_home, "--help")
    assert res.returncode == 0
    for verb in VERBS:
        assert re.search(rf"^\s+{verb}\b", res.stdout, re.M), f"{verb} missing from --help"
    res = run_axon(axon_home)  # no verb at all
    assert res.returncode == EXIT_BAD_INPUT
    res = run_axon(axon_home, "get", "--output", "yaml")
    assert res.returncode == EXIT_BAD_INPUT
    assert "yaml" in res.stderr


@pytest.mark.parametrize("args", [
    ["get"],
    ["get", "-o", "json"],
    ["describe", "iris"],
    ["logs", "iris"],
    ["refresh", "iris"],
    ["rollback", "iris"],
    ["delete", "iris"],
    ["deploy", "axon.yaml"],
    ["predict", "iris", "body.json"],
])
def test_verbs_without_a_running_operator_exit_3(axon_home, tmp_path, args):
    write_api(tmp_path, "iris", ECHO_PREDICTOR)
    (tmp_path / "body.json").write_text('{"x": 1}')
    res = run_axon(axon_home, *args, cwd=tmp_path)
    assert res.returncode == EXIT_NOT_RUNNING, (res.stdout, res.stderr)
    assert "axon up" in res.stderr
    assert "not running" in res.stderr


def test_down_and_version_without_a_platform(axon_home):
    res = run_axon(axon_home, "down")
    assert res.returncode == 0
    assert "not running" in res.stdout
    res = run_axon(axon_home, "version")
    assert res.returncode == 0
    assert re.match(r"axon \d+\.\d+\.\d+", res.stdout)


def test_invalid_spec_is_rejected_whole(platform):
    write_api(platform.work_dir, "good", ECHO_PREDICTOR)
    bad = platform.work_dir / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        - name: good
          kind: RealtimeAPI
          predictor: {type: python, path: predictor.py}
        - name: bad
          kind: RealtimeAPI
          predictor:
            type: python
            path: predictor.py
          autoscaling:
            min_replica: 2
            max_replica_concurrency: 0
        """))
    res = platform.axon("deploy", "bad.yaml")
    assert res.returncode == EXIT_BAD_INPUT
    assert 'bad.yaml:10: api "bad": autoscaling.min_replica: unknown field; ' \
           'did you mean "min_replicas"?' in res.stderr
    assert 'bad.yaml:11: api "bad": autoscaling.max_replica_concurrency:' in res.stderr
    assert res.stdout == ""
    # Nothing was created, not even the valid API of the file.
    assert "no apis are deployed" in platform.axon_ok("get")
    assert json.loads(platform.axon_ok("get", "-o", "json")) == []
    assert platform.predict("/good", {}).status_code == 404

    # A predictor path that does not exist, and a file that cannot be read.
    missing = write_api(platform.work_dir / "m", "missing", ECHO_PREDICTOR)
    missing.write_text(missing.read_text().replace("path: predictor.py", "path: nothere.py"))
    res = platform.axon("deploy", "m/axon.yaml")
    assert res.returncode == EXIT_BAD_INPUT
    assert re.search(r'm/axon.yaml:\d+: api "missing": predictor.path: .*nothere.py',
                     res.stderr), res.stderr
    res = platform.axon("deploy", "does-not-exist.yaml")
    assert res.returncode == EXIT_BAD_INPUT
    assert "cannot read does-not-exist.yaml" in res.stderr
    assert json.loads(platform.axon_ok("get", "-o", "json")) == []


def test_endpoint_taken_by_another_api_is_refused(platform):
    deploy_echo(platform, "first")
    second = write_api(platform.work_dir / "second", "second", ECHO_PREDICTOR,
                       "networking:\n  endpoint: /first\n")
    res = platform.axon("deploy", second)
    assert res.returncode == EXIT_FAILED
    assert 'api "second": networking.endpoint: /first is already served by api "first"' \
        in res.stderr
    assert [a["name"] for a in json.loads(platform.axon_ok("get", "-o", "json"))] == ["first"]


def test_get_table_json_and_counts(platform):
    deploy_echo(platform, "echo")
    deploy_echo(platform, "other")

    header, rows = table_rows(platform.axon_ok("get"))
    assert re.split(r"\s{2,}", header.strip()) == TABLE_COLUMNS
    assert set(rows) == {"echo", "other"}
    cells = dict(zip(TABLE_COLUMNS, rows["echo"]))
    assert cells["status"] == "live"
    assert cells["up-to-date"] == "1" and cells["requested"] == "1"
    assert re.fullmatch(r"\d+s", cells["last update"])
    assert cells["avg request"] == "-"
    assert (cells["p50"], cells["p99"], cells["req/s"]) == ("-", "-", "0")
    assert (cells["2XX"], cells["4XX"], cells["5XX"]) == ("0", "0", "0")

    assert platform.predict_when_routed("/echo", {"a": 1}).status_code == 200
    assert platform.predict("/echo", {"a": 2}).status_code == 200
    assert platform.predict("/echo", "{bad", "application/json").status_code == 400
    assert platform.predict("/echo", "fail", "text/plain").status_code == 500

    _, rows = table_rows(platform.axon_ok("get"))
    cells = dict(zip(TABLE_COLUMNS, rows["echo"]))
    assert (cells["2XX"], cells["4XX"], cells["5XX"]) == ("2", "1", "1")
    for column in ("avg request", "p50", "p99"):
        assert re.fullmatch(r"[\d.e+-]+ ms", cells[column]), (column, cells[column])
    assert float(cells["req/s"]) > 0
    other = dict(zip(TABLE_COLUMNS, rows["other"]))
    assert (other["2XX"], other["4XX"], other["5XX"]) == ("0", "0", "0")

    listing = json.loads(platform.axon_ok("get", "-o", "json"))
    by_name = {a["name"]: a for a in listing}
    assert set(by_name) == {"echo", "other"}
    echo = by_name["echo"]
    assert echo["status"] == "live" and echo["endpoint"] == "/echo"
    assert (echo["requests_2xx"], echo["requests_4xx"], echo["requests_5xx"]) == (2, 1, 1)
    assert echo["avg_request_ms"] > 0
    assert 0 < echo["p50_ms"] <= echo["p99_ms"] and echo["requests_per_s"] > 0
    assert echo["version"] == 1 and echo["requested"] == 1 and echo["up_to_date"] == 1

    one = platform.axon_ok("get", "echo")
    header, rows = table_rows(one)
    assert list(rows) == ["echo"]
    assert f"endpoint: {platform.gateway_url}/echo" in one
    one_json = json.loads(platform.axon_ok("get", "echo", "-o", "json"))
    assert one_json["name"] == "echo" and one_json["replicas"][0]["state"] == "ready"

    res = platform.axon("get", "nosuchapi")
    assert res.returncode == EXIT_FAILED
    assert "no api named nosuchapi" in res.stderr


def test_describe_shows_replicas(platform):
    deploy_echo(platform, "echo")
    api = platform.describe("echo")
    replica = api["replicas"][0]
    out = platform.axon_ok("describe", "echo")
    assert f"endpoint: {platform.gateway_url}/echo" in out
    assert re.search(r"^version:\s+1$", out, re.M)
    lines = out.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("replica "))
    assert re.split(r"\s{2,}", lines[header_at].strip()) == [
        "replica", "version", "state", "pid", "port", "in flight", "restarts", "last failure"]
    cells = re.split(r"\s{2,}", lines[header_at + 1].strip())
    assert cells == [replica["id"], "1", "ready", str(replica["pid"]), str(replica["port"]),
                     "0", "0", "-"]
    assert replica["port"] > 0 and replica["pid"] > 0

    res = platform.axon("describe", "nosuchapi")
    assert res.returncode == EXIT_FAILED
    assert "no api named nosuchapi" in res.stderr


def test_predict_verb(platform):
    deploy_echo(platform, "echo")
    platform.predict_when_routed("/echo", {})
    (platform.work_dir / "body.json").write_text('{"from": "file"}')
    out = platform.axon_ok("predict", "echo", "body.json")
    assert json.loads(out) == {"echo": {"from": "file"}}
    out = platform.axon_ok("predict", "echo", "-", "--content-type", "text/plain",
                           input="from stdin")
    assert json.loads(out) == {"echo": "from stdin"}
    res = platform.axon("predict", "echo", "-", "--content-type", "text/plain", input="fail")
    assert res.returncode == EXIT_FAILED
    assert "HTTP 500" in res.stderr and "asked to fail" in res.stderr
    res = platform.axon("predict", "echo", "missing.json")
    assert res.returncode == EXIT_BAD_INPUT


def test_version_names_the_platform(platform):
    out = platform.axon_ok("version")
    assert re.search(r"^axon \d+\.\d+\.\d+ \(commit \S+\)$", out, re.M)
    assert re.search(r"^platform \d+\.\d+\.\d+ \(commit \S+\) at 127.0.0.1:\d+$", out, re.M)


@pytest.mark.parametrize("busy", ["operator", "gateway"])
def test_up_on_a_busy_port_fails_and_leaves_nothing_running(tmp_path, busy):
    home = tmp_path / "home"
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        taken = blocker.getsockname()[1]
        free, grpc_port = free_ports(2)
        operator_port, gateway_port = (taken, free) if busy == "operator" else (free, taken)
        res = run_axon(home, "up", "--port", operator_port, "--gateway-port", gateway_port,
                       "--grpc-port", grpc_port, "--tick-ms", 100)
        try:
            assert res.returncode == EXIT_FAILED, (res.stdout, res.stderr)
            assert "Axon is up" not in res.stdout
            # The holder is named (here: this test's own process), before anything starts.
            assert f"the {busy} port {taken} is in use by pid {os.getpid()}" in res.stderr, \
                res.stderr
            assert platform_pids(home) == []
        finally:
            run_axon(home, "down")
            for pid in platform_pids(home):
                os.kill(pid, signal.SIGKILL)
    finally:
        blocker.close()


def test_up_waits_for_a_lock_that_an_exiting_operator_still_holds(tmp_path):
    """A killed operator keeps AXON_HOME's lock until its last thread has exited, a moment
    after its pid shows as gone: `axon up` run in that moment must wait, not fail. The kernel
    makes that moment too short to hit on demand, so a small process that holds the lock for
    half a second, answering nothing, stands in for the exiting operator."""
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""\
            import fcntl, sys, time
            f = open(sys.argv[1], "w")
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write("pid 1, an operator on its way out"); f.flush()
            print("locked", flush=True)
            time.sleep(0.5)
            """), str(home / "run" / "operator.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        operator_port, gateway_port, grpc_port = free_ports(3)
        res = run_axon(home, "up", "--port", operator_port, "--gateway-port", gateway_port,
                       "--grpc-port", grpc_port, "--tick-ms", 100)
        assert res.returncode == 0, (res.stdout, res.stderr)
        assert "Axon is up" in res.stdout, res.stdout
    finally:
        holder.wait(timeout=10)
        run_axon(home, "down")
        for pid in platform_pids(home):
            os.kill(pid, signal.SIGKILL)


WATCH_FOOTER = re.compile(r"^\d\d:\d\d:\d\d, every 2s \(Ctrl-C to stop\)\r?$", re.M)


def read_until(stream_fd, done, timeout):
    """Reads from a file descriptor until done(text) or the timeout; returns the text."""
    import selectors
    text = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(stream_fd, selectors.EVENT_READ)
        while not done(text.decode(errors="replace")):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; read so far:\n{text.decode(errors='replace')}"
            if sel.select(left):
                try:
                    chunk = os.read(stream_fd, 65536)
                except OSError:  # a pty whose other end closed
                    chunk = b""
                assert chunk, f"output ended; read so far:\n{text.decode(errors='replace')}"
                text += chunk
    return text.decode(errors="replace")


def test_get_watch_prints_successive_tables_until_interrupted(platform):
    deploy_echo(platform, "echo")
    assert platform.predict_when_routed("/echo", {"a": 1}).status_code == 200
    watch = subprocess.Popen([str(AXON), "get", "-w"], env=axon_env(platform.home),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = read_until(watch.stdout.fileno(), lambda t: len(WATCH_FOOTER.findall(t)) >= 1,
                           timeout=15)
        for _ in range(3):
            assert platform.predict("/echo", {"a": 2}).status_code == 200
        both = first + read_until(watch.stdout.fileno(),
                                  lambda t: len(WATCH_FOOTER.findall(first + t)) >= 2,
                                  timeout=15)
        frames = [f for f in WATCH_FOOTER.split(both) if f.strip()]
        assert len(frames) >= 2, both
        counts = []
        for frame in frames[:2]:
            assert "\x1b[" not in frame  # not a terminal: no screen control
            _, rows = table_rows(frame)
            counts.append(dict(zip(TABLE_COLUMNS, rows["echo"]))["2XX"])
        assert counts == ["1", "4"], both
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=10) != 0
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        watch.stdout.close()
        watch.stderr.close()


def test_get_watch_redraws_in_place_on_a_terminal(platform):
    import pty
    deploy_echo(platform, "echo")
    leader, follower = pty.openpty()
    watch = subprocess.Popen([str(AXON), "get", "-w"], env=axon_env(platform.home),
                             stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    try:
        text = read_until(leader, lambda t: len(WATCH_FOOTER.findall(t)) >= 2, timeout=15)
        # Each refresh starts by moving the cursor home and clearing the screen.
        assert text.count("\x1b[H\x1b[2J") >= 2, repr(text)
        assert text.startswith("\x1b[H\x1b[2J"), repr(text)
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=10)
        os.close(leader)
        watch.stderr.close()


def test_get_watch_refuses_other_outputs(platform):
    res = platform.axon("get", "-w", "-o", "json")
    assert res.returncode == EXIT_BAD_INPUT
    assert "--watch prints tables" in res.stderr
