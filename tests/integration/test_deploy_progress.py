"""`axon deploy` shows each API's rollout until it is live or fails; --no-wait and --timeout."""

import os
import pty
import select
import subprocess
import textwrap

from conftest import AXON, axon_env, write_api

SLOW_START = """\
    import time


    class PythonPredictor:
        def __init__(self, config):
            time.sleep(config.get("load_seconds", 0))

        def predict(self, payload):
            return "ok"
    """

BROKEN = """\
    class PythonPredictor:
        def __init__(self, config):
            raise ValueError("the weights are not here")

        def predict(self, payload):
            return "never"
    """


def slow_api(platform, name, seconds, extra=""):
    return write_api(platform.work_dir / name, name, SLOW_START,
                     f"  config:\n    load_seconds: {seconds}\n" + extra)


def test_deploy_waits_until_live_printing_one_line_per_change(platform):
    spec = slow_api(platform, "slow", 3, "autoscaling:\n  min_replicas: 2\n")
    res = platform.axon("deploy", spec)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("created api slow (version 1) at http://127.0.0.1:")
    progress = lines[1:]
    assert progress[-1] == "slow: 2/2 ready, live", res.stdout
    assert "slow: 0/2 ready, updating" in progress, res.stdout
    # Plain lines, one per change: no escape codes, never the same line twice in a row.
    assert "\x1b" not in res.stdout
    assert all(a != b for a, b in zip(progress, progress[1:])), res.stdout
    api = platform.describe("slow")
    assert api["status"] == "live" and len(api["replicas"]) == 2
    # Deploying it again unchanged: live at once.
    again = platform.axon("deploy", spec)
    assert again.returncode == 0
    assert again.stdout.splitlines()[1:] == ["slow: 2/2 ready, live"]


def test_deploy_fails_with_the_operators_reason(platform):
    spec = write_api(platform.work_dir / "broken", "broken", BROKEN)
    res = platform.axon("deploy", spec)
    assert res.returncode == 1, res
    assert "created api broken" in res.stdout
    assert res.stdout.splitlines()[-1].startswith("broken: error: ")
    assert "api broken: " in res.stderr and "the weights are not here" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    # The fix: the old version's error does not end the wait for the new one.
    (platform.work_dir / "broken" / "predictor.py").write_text(textwrap.dedent(SLOW_START))
    fixed = platform.axon("deploy", spec)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "updated api broken (version 2)" in fixed.stdout
    assert fixed.stdout.splitlines()[-1] == "broken: 1/1 ready, live"
    assert "error" not in fixed.stdout


def test_no_wait_returns_once_accepted_and_timeout_bounds_the_wait(platform):
    spec = slow_api(platform, "sleepy", 120)
    res = platform.axon("deploy", "--no-wait", spec)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"created api sleepy (version 1) at {platform.gateway_url}/sleepy"]
    assert platform.describe("sleepy")["status"] == "updating"  # its replica loads for 2 min

    waited = platform.axon("deploy", "--timeout", "1s", spec)
    assert waited.returncode == 1
    assert "unchanged api sleepy" in waited.stdout
    assert ("timed out after 1s waiting for the rollout of sleepy: 0/1 ready, updating; it goes "
            "on: see `axon get`") in waited.stderr, waited.stderr

    bad = platform.axon("deploy", "--timeout", "soon", spec)
    assert bad.returncode == 2
    assert '--timeout: must be a duration like "30s"' in bad.stderr and 'got "soon"' in bad.stderr


def test_on_a_terminal_the_lines_are_redrawn_in_place(platform):
    spec = slow_api(platform, "tty", 1)
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([str(AXON), "deploy", str(spec)], env=axon_env(platform.home),
                                   stdout=follower, stderr=subprocess.PIPE)
        os.close(follower)
        follower = None
        output = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            assert ready, f"no output from axon deploy within 60 s: {output!r}"
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    text = output.decode()
    assert "\x1b[1A" in text and "\x1b[2K" in text, text  # cursor up, clear line
    assert text.rstrip().endswith("tty: 1/1 ready, live"), text
