"""AsyncAPI: requests stored by the operator and answered with an id at once, run by real
replicas from the queue, polled to `completed` or `failed`; a replica killed while it runs a
request gives it back (it completes on another run, or fails after max_attempts); a killed
operator or gateway loses no accepted request; the spec's errors."""
import os
import signal
import textwrap

from conftest import pid_alive, wait_for

# Doubles payload["x"]; "boom" raises; with `hold` in the config, the first run of a request
# whose payload has "hold" writes its pid to that file and sleeps (until killed, at most 60 s).
PREDICTOR = """\
import os
import time


class PythonPredictor:
    def __init__(self, config):
        self.hold = config.get("hold")
        self.sleep = config.get("sleep", 0)

    def predict(self, payload):
        if payload.get("boom"):
            raise ValueError("cannot double " + str(payload["x"]))
        if payload.get("hold") and self.hold:
            if not os.path.exists(self.hold):
                with open(self.hold, "w") as f:
                    f.write(str(os.getpid()))
                time.sleep(60)
        time.sleep(self.sleep)
        return {"doubled": payload["x"] * 2, "pid": os.getpid()}
"""


def write_async(platform, name, config="{}", extra=""):
    folder = platform.work_dir / name
    folder.mkdir(exist_ok=True)
    (folder / "predictor.py").write_text(PREDICTOR)
    spec = folder / "axon.yaml"
    spec.write_text(textwrap.dedent(f"""\
        name: {name}
        kind: AsyncAPI
        predictor:
          type: python
          path: predictor.py
          config: {config}
        """) + textwrap.dedent(extra))
    return spec


def submit(platform, endpoint, payload):
    res = platform.predict(endpoint, payload)
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"id"}, body
    return body["id"]


def status(platform, endpoint, request_id):
    res = platform.predict(f"{endpoint}/{request_id}", method="GET")
    assert res.status_code == 200, res.text
    return res.json()


def wait_finished(platform, endpoint, request_id, timeout=60):
    return wait_for(lambda: (s := status(platform, endpoint, request_id))["status"]
                    in ("completed", "failed") and s, timeout=timeout,
                    message=f"request {request_id} to finish")


def deploy_live(platform, spec, name):
    platform.deploy(spec)
    platform.wait_live(name)
    platform.wait_routed(name)


def test_submit_and_poll_to_completed_and_failed(platform):
    deploy_live(platform, write_async(platform, "doubler"), "doubler")
    ok = submit(platform, "/doubler", {"x": 21})
    bad = submit(platform, "/doubler", {"x": 2, "boom": True})
    assert ok != bad

    done = wait_finished(platform, "/doubler", ok)
    assert done["status"] == "completed"
    assert done["id"] == ok
    assert done["result"]["doubled"] == 42
    assert done["timestamp"].endswith("Z") and "T" in done["timestamp"]
    assert "error" not in done

    failed = wait_finished(platform, "/doubler", bad)
    assert failed["status"] == "failed"
    assert failed["error"] == "predict() raised ValueError: cannot double 2"
    assert "result" not in failed
    assert "Traceback" not in failed["error"] and str(platform.work_dir) not in failed["error"]

    # The paths and methods that are not an AsyncAPI's.
    missing = platform.predict("/doubler/0123456789abcdef", method="GET")
    assert missing.status_code == 404
    assert "has no request 0123456789abcdef" in missing.json()["error"]
    assert platform.predict("/doubler/not-an-id", method="GET").status_code == 404
    wrong = platform.predict("/doubler", method="GET")
    assert wrong.status_code == 405
    assert "POST a request to /doubler" in wrong.json()["error"]
    assert platform.predict(f"/doubler/{ok}", {"x": 1}).status_code == 405
    v2 = platform.predict("/v2/models/doubler/infer", {"inputs": []})
    assert v2.status_code == 404 and "is an AsyncAPI" in v2.json()["error"]


def test_a_replica_killed_while_running_a_request_gives_it_back(platform):
    hold = platform.work_dir / "held.pid"
    spec = write_async(platform, "held", config=f'{{hold: "{hold}"}}',
                       extra="queue:\n  max_attempts: 3\n")
    deploy_live(platform, spec, "held")
    request_id = submit(platform, "/held", {"x": 5, "hold": True})
    wait_for(lambda: hold.exists() and hold.read_text(), timeout=30,
             message="the replica to start the request")
    assert status(platform, "/held", request_id)["status"] == "in_progress"
    killed = int(hold.read_text())
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: not pid_alive(killed), timeout=10, message="the replica to die")

    done = wait_finished(platform, "/held", request_id)
    assert done["status"] == "completed", done
    assert done["result"]["doubled"] == 10
    assert done["result"]["pid"] != killed  # run again by the restarted replica


def test_the_retry_limit_fails_a_request_whose_replica_keeps_dying(platform):
    hold = platform.work_dir / "once.pid"
    spec = write_async(platform, "once", config=f'{{hold: "{hold}"}}',
                       extra="queue:\n  max_attempts: 1\n")
    deploy_live(platform, spec, "once")
    request_id = submit(platform, "/once", {"x": 5, "hold": True})
    wait_for(lambda: hold.exists() and hold.read_text(), timeout=30,
             message="the replica to start the request")
    os.kill(int(hold.read_text()), signal.SIGKILL)
    failed = wait_finished(platform, "/once", request_id)
    assert failed["status"] == "failed"
    assert "stopped before answering (tried 1 times)" in failed["error"], failed


def test_a_killed_operator_or_gateway_loses_no_accepted_request(platform):
    spec = write_async(platform, "slow", config="{sleep: 0.05}")
    deploy_live(platform, spec, "slow")
    ids = {submit(platform, "/slow", {"x": i}): i for i in range(30)}

    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    os.kill(operator_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(operator_pid), timeout=10, message="the operator to die")
    # Without the operator the gateway cannot take or read requests, and says so.
    res = platform.predict("/slow", {"x": 0})
    assert res.status_code == 503 and "retry later" in res.json()["error"]

    assert platform.up().returncode == 0
    platform.wait_live("slow")
    more = {submit(platform, "/slow", {"x": i}): i for i in range(30, 40)}
    gateway_pid = platform.gateway_pid()
    os.kill(gateway_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(gateway_pid), timeout=10, message="the gateway to die")
    ids.update(more)

    def all_done():
        try:
            return all(status(platform, "/slow", i)["status"] == "completed" for i in ids)
        except Exception:  # the gateway is restarting
            return False
    wait_for(all_done, timeout=90, interval=0.25, message="every request to complete")
    for request_id, x in ids.items():
        assert status(platform, "/slow", request_id)["result"]["doubled"] == 2 * x


def test_spec_errors(platform):
    spec = write_async(platform, "wrong", extra="queue:\n  max_attempts: 0\n")
    result = platform.axon("deploy", "--no-wait", spec)
    assert result.returncode != 0
    assert 'api "wrong": queue.max_attempts: must be' in result.stderr + result.stdout

    spec = write_async(platform, "jobs")
    both = platform.work_dir / "both.yaml"
    both.write_text(textwrap.dedent(f"""\
        - name: jobs
          kind: AsyncAPI
          predictor: {{type: python, path: {spec.parent / "predictor.py"}}}
        - name: split
          kind: TrafficSplitter
          apis: [{{name: jobs, weight: 100}}]
        """))
    result = platform.axon("deploy", "--no-wait", both)
    assert result.returncode != 0
    assert "is an AsyncAPI; a TrafficSplitter sends requests to RealtimeAPIs only" in (
        result.stderr + result.stdout)


def test_results_are_removed_after_their_retention(platform):
    spec = write_async(platform, "brief", extra="queue:\n  result_retention: 1s\n")
    deploy_live(platform, spec, "brief")
    request_id = submit(platform, "/brief", {"x": 1})
    assert wait_finished(platform, "/brief", request_id)["status"] == "completed"
    # The operator sweeps every second.
    wait_for(lambda: platform.predict(f"/brief/{request_id}", method="GET").status_code == 404,
             timeout=20, interval=0.5, message="the result to be removed")
