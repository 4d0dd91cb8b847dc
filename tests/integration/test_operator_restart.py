"""SIGKILL of the operator: the gateway and the replicas keep serving, and a restarted operator
adopts them (same pids) instead of starting new ones."""
import os
import signal
import threading

import requests

from conftest import pid_alive, wait_for, write_api

ECHO_PREDICTOR = """\
    class PythonPredictor:
        def predict(self, payload):
            return {"echo": payload}
    """


def test_killed_operator_leaves_apis_serving_and_is_adopted(platform):
    spec = write_api(platform.work_dir / "kept", "kept", ECHO_PREDICTOR,
                     "autoscaling:\n  init_replicas: 2\n")
    platform.deploy(spec)
    before = platform.wait_live("kept")
    pids = sorted(r["pid"] for r in before["replicas"])
    gateway_pid = platform.gateway_pid()
    assert platform.predict_when_routed("/kept", {"x": 1}).status_code == 200

    results = []
    stop = threading.Event()

    def traffic():  # bounded: at most 20000 requests, and stopped below
        with requests.Session() as session:
            while not stop.is_set() and len(results) < 20000:
                try:
                    res = session.post(platform.gateway_url + "/kept", json={"i": 1}, timeout=10)
                    results.append(res.status_code)
                except requests.RequestException as e:
                    results.append(repr(e))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        wait_for(lambda: len(results) >= 20, timeout=10, message="traffic to flow")
        operator_pid = int((platform.home / "run" / "operator.pid").read_text())
        os.kill(operator_pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(operator_pid), timeout=10, message="the operator to die")
        seen = len(results)
        wait_for(lambda: len(results) >= seen + 50, timeout=10,
                 message="traffic without an operator")
        assert platform.axon("get").returncode == 3  # the CLI says the operator is not running

        assert platform.up().returncode == 0
        after = platform.wait_live("kept")
        seen = len(results)
        wait_for(lambda: len(results) >= seen + 50, timeout=10, message="traffic after restart")
    finally:
        stop.set()
        thread.join(timeout=15)

    assert [r for r in results if r != 200] == []
    assert sorted(r["pid"] for r in after["replicas"]) == pids
    assert platform.gateway_pid() == gateway_pid
    assert "kept" in platform.axon_ok("get")


def test_a_restarted_operator_keeps_the_scale_it_adopts(platform):
    # init_replicas is 0 (= min_replicas); a request wakes the API to one replica, so the
    # running count differs from the spec's initial one when the operator is killed.
    spec = write_api(platform.work_dir / "woken", "woken", ECHO_PREDICTOR,
                     "autoscaling:\n  min_replicas: 0\n  downscale_stabilization_period: 5m\n")
    platform.deploy(spec)
    wait_for(lambda: platform.predict("/woken", {}).status_code == 200, timeout=20,
             message="the api to wake for a request")
    before = platform.wait_live("woken")
    assert before["requested"] == 1

    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    os.kill(operator_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(operator_pid), timeout=10, message="the operator to die")
    assert platform.up().returncode == 0
    after = platform.wait_live("woken")
    assert after["requested"] == 1
    assert [r["pid"] for r in after["replicas"]] == [r["pid"] for r in before["replicas"]]
