"""What the platform does when predictors, replicas or requests go wrong."""

import os
import signal
import threading

import pytest
import requests

from conftest import pid_alive, wait_for, write_api

ECHO_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            return {"echo": payload}
    """

RAISING_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            if payload.get("fail"):
                raise ValueError("cannot score item " + str(payload["fail"]))
            if payload.get("unserializable"):
                return {"value": object()}
            return {"ok": payload}
    """

BROKEN_INIT_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            raise RuntimeError("model file weights.bin is missing")

        def predict(self, payload):
            return payload
    """

SLOW_PREDICTOR = """\
    import time

    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            time.sleep(payload.get("sleep", 0))
            return {"slept": payload.get("sleep", 0)}
    """


def deploy(platform, name, source, spec_extra="", wait=True):
    spec = write_api(platform.work_dir / name, name, source, spec_extra)
    out = platform.deploy(spec)
    assert f"created api {name} (version 1)" in out
    if wait:
        platform.wait_live(name)
    return spec


def test_exception_in_predict_is_a_500_with_traceback_in_logs(platform):
    deploy(platform, "raiser", RAISING_PREDICTOR)
    res = platform.predict_when_routed("/raiser", {"fail": 17},
                                       headers={"X-Request-ID": "req-fail-17"})
    assert res.status_code == 500
    assert res.headers["Content-Type"] == "application/json"
    error = res.json()["error"]
    assert "ValueError" in error and "cannot score item 17" in error
    assert res.json()["request_id"] == "req-fail-17"

    logs = wait_for(lambda: (out := platform.axon_ok("logs", "raiser"))
                    and "Traceback (most recent call last)" in out and out, timeout=10,
                    message="the traceback to reach the API log")
    assert "req-fail-17" in logs
    assert 'raise ValueError("cannot score item "' in logs
    assert "ValueError: cannot score item 17" in logs

    # A return value that JSON cannot hold is the predictor's error too.
    res = platform.predict("/raiser", {"unserializable": True})
    assert res.status_code == 500
    assert "not JSON serializable" in res.json()["error"]

    # The replica survived and serves; the failures are counted as 5XX.
    res = platform.predict("/raiser", {"x": 1})
    assert res.status_code == 200 and res.json() == {"ok": {"x": 1}}
    api = platform.describe("raiser")
    assert api["status"] == "live"
    assert api["replicas"][0]["restarts"] == 0
    assert api["requests_5xx"] == 2 and api["requests_2xx"] == 1


def test_init_failure_puts_the_api_in_error(platform):
    deploy(platform, "healthy", ECHO_PREDICTOR)
    deploy(platform, "broken", BROKEN_INIT_PREDICTOR, wait=False)
    api = platform.wait_status("broken", "error")
    assert "PythonPredictor.__init__ raised RuntimeError: model file weights.bin is missing" \
        in api["reason"]
    assert api["up_to_date"] == 0

    listing = platform.axon_ok("get")
    row = next(line for line in listing.splitlines() if line.startswith("broken "))
    assert row.split()[1] == "error"

    one = platform.axon_ok("get", "broken")
    assert "reason: PythonPredictor.__init__ raised RuntimeError" in one

    described = platform.axon_ok("describe", "broken")
    assert "error: PythonPredictor.__init__ raised RuntimeError: " \
           "model file weights.bin is missing" in described
    # The traceback is in the API's log.
    logs = platform.axon_ok("logs", "broken")
    assert "Traceback" in logs and "weights.bin is missing" in logs

    # The gateway says why it cannot serve; the other API is unaffected.
    res = platform.predict("/broken", {"x": 1})
    assert res.status_code == 503
    assert "no ready replica" in res.json()["error"]
    assert platform.predict_when_routed("/healthy", {"x": 1}).status_code == 200
    assert platform.describe("healthy")["status"] == "live"

    # Fixing the predictor and deploying again heals the API.
    spec = platform.work_dir / "broken" / "predictor.py"
    spec.write_text(spec.read_text().replace(
        'raise RuntimeError("model file weights.bin is missing")', "pass"))
    out = platform.deploy(platform.work_dir / "broken" / "axon.yaml")
    assert "updated api broken (version 2)" in out
    api = platform.wait_live("broken")
    assert api["reason"] == ""
    assert platform.predict_when_routed("/broken", {"x": 1}).json() == {"x": 1}


def test_import_error_and_missing_class_are_reported(platform):
    deploy(platform, "noclass", "class Predictor:\n    pass\n", wait=False)
    deploy(platform, "badimport", "import module_that_does_not_exist_42\n", wait=False)
    api = platform.wait_status("noclass", "error")
    assert "must define a class named PythonPredictor" in api["reason"]
    api = platform.wait_status("badimport", "error")
    assert "ModuleNotFoundError" in api["reason"]
    assert "module_that_does_not_exist_42" in api["reason"]


def test_killed_replica_is_restarted(platform):
    deploy(platform, "victim", ECHO_PREDICTOR)
    assert platform.predict_when_routed("/victim", {"n": 1}).status_code == 200
    before = platform.describe("victim")["replicas"][0]
    os.kill(before["pid"], signal.SIGKILL)

    after = wait_for(lambda: (r := platform.describe("victim")["replicas"][0])["state"] == "ready"
                     and r["pid"] != before["pid"] and r, timeout=15,
                     message="the killed replica to be replaced")
    assert after["id"] == before["id"]  # the same slot, a new process
    assert after["restarts"] >= 1
    assert "signal 9" in after["last_failure"]
    assert not pid_alive(before["pid"])
    assert platform.wait_live("victim")["status"] == "live"
    res = platform.predict_when_routed("/victim", {"n": 2})
    assert res.status_code == 200 and res.json() == {"echo": {"n": 2}}

    described = platform.axon_ok("describe", "victim")
    row = next(line for line in described.splitlines() if line.startswith(before["id"] + " "))
    assert str(after["pid"]) in row.split()


def test_bad_requests_get_json_errors(platform):
    deploy(platform, "echo", ECHO_PREDICTOR)
    assert platform.predict_when_routed("/echo", {"x": 1}).status_code == 200

    res = platform.predict("/echo", '{"x": ', "application/json")
    assert res.status_code == 400
    assert "malformed JSON" in res.json()["error"]

    res = platform.predict("/echo", b"\xff\xfe", "text/plain")
    assert res.status_code == 400
    assert "UTF-8" in res.json()["error"]

    res = platform.predict("/no/such/endpoint", {"x": 1})
    assert res.status_code == 404
    assert res.headers["Content-Type"] == "application/json"
    assert "/no/such/endpoint" in res.json()["error"]
    # A prefix or a sub-path of an endpoint is not the endpoint.
    assert platform.predict("/ech", {"x": 1}).status_code == 404
    assert platform.predict("/echo/more", {"x": 1}).status_code == 404

    api = platform.describe("echo")
    assert api["requests_4xx"] == 2 and api["requests_2xx"] == 1


@pytest.mark.up_args("--max-body-bytes", 1024)
def test_body_over_the_limit_is_413(platform):
    deploy(platform, "echo", ECHO_PREDICTOR)
    res = platform.predict_when_routed("/echo", "x" * 1024, content_type="text/plain")
    assert res.status_code == 200 and res.json() == {"echo": "x" * 1024}
    res = platform.predict("/echo", "x" * 1025, "text/plain")
    assert res.status_code == 413
    assert "1024 bytes" in res.json()["error"]
    res = platform.predict("/echo", b"x" * (200 * 1024), "application/octet-stream")
    assert res.status_code == 413
    # The gateway still serves afterwards.
    assert platform.predict("/echo", {"small": True}).status_code == 200


def test_max_replica_concurrency_answers_503(platform):
    deploy(platform, "slow", SLOW_PREDICTOR, "autoscaling:\n  max_replica_concurrency: 1\n"
           "  target_replica_concurrency: 1\n  max_queue_length: 0\n")
    assert platform.predict_when_routed("/slow", {"sleep": 0}).status_code == 200

    first = {}
    thread = threading.Thread(
        target=lambda: first.setdefault("res", platform.predict("/slow", {"sleep": 1.5})))
    thread.start()
    try:
        wait_for(lambda: platform.describe("slow")["in_flight"] == 1, timeout=5,
                 message="the first request to be in flight")
        second = platform.predict("/slow", {"sleep": 0})
        assert second.status_code == 503
        assert second.headers["Content-Type"] == "application/json"
        assert "max_replica_concurrency" in second.json()["error"]
    finally:
        thread.join(timeout=10)
    assert first["res"].status_code == 200
    assert first["res"].json() == {"slept": 1.5}
    # Once the replica is free it takes requests again.
    assert platform.predict("/slow", {"sleep": 0}).status_code == 200


def test_concurrent_burst_respects_max_replica_concurrency(platform):
    deploy(platform, "slow", SLOW_PREDICTOR,
           "  threads_per_process: 2\nautoscaling:\n  max_replica_concurrency: 2\n"
           "  target_replica_concurrency: 2\n  max_queue_length: 0\n")
    assert platform.predict_when_routed("/slow", {"sleep": 0}).status_code == 200
    results = []
    barrier = threading.Barrier(8)
    threads = []
    for _ in range(8):
        # One session each, so the requests use separate connections.
        t = threading.Thread(target=lambda: (
            barrier.wait(timeout=5),
            results.append(requests.post(platform.gateway_url + "/slow", json={"sleep": 1},
                                         timeout=10).status_code)))
        threads.append(t)
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert sorted(results) == [200, 200] + [503] * 6, results


def test_management_api_needs_the_token(platform):
    assert platform.management("GET", "/v1/apis", token="").status_code == 401
    res = platform.management("GET", "/v1/apis", token="0" * 64)
    assert res.status_code == 401
    assert "token" in res.json()["error"]
    res = platform.management("POST", "/v1/shutdown", token="")
    assert res.status_code == 401
    res = platform.management("POST", "/v1/deploy", token="wrong", json={"file": "x", "yaml": ""})
    assert res.status_code == 401
    # The health check is open, and the right token works.
    assert platform.management("GET", "/healthz", token="").status_code == 200
    assert platform.management("GET", "/v1/apis").status_code == 200
    # The gateway's admin paths are not served on its public port at all...
    res = requests.get(platform.gateway_url + "/_axon/stats", timeout=5)
    assert res.status_code == 404
    res = requests.put(platform.gateway_url + "/_axon/routes", data='{"apis": []}', timeout=5)
    assert res.status_code == 404
    # ...and on its admin listener they take the token.
    assert platform.gateway_admin("GET", "/_axon/stats", token="")[0] == 401
    assert platform.gateway_admin("PUT", "/_axon/routes", b'{"apis": []}', token="x")[0] == 401
    # The platform is still up after all that.
    assert platform.axon("get").returncode == 0


CRASHING_PREDICTOR = """\
    import os

    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            if payload.get("crash"):
                print("about to crash", flush=True)
                os._exit(3)
            return {"pid": os.getpid()}
    """


def test_replica_dying_mid_request_is_a_502_and_is_restarted(platform):
    deploy(platform, "crashy", CRASHING_PREDICTOR)
    first_pid = platform.predict_when_routed("/crashy", {}).json()["pid"]

    res = platform.predict("/crashy", {"crash": True})
    assert res.status_code == 502
    assert res.headers["Content-Type"] == "application/json"
    assert "crashy" in res.json()["error"]

    replica = wait_for(lambda: (r := platform.describe("crashy")["replicas"][0])["state"] == "ready"
                       and r["pid"] != first_pid and r, timeout=15,
                       message="the crashed replica to be restarted")
    assert replica["restarts"] == 1
    assert "exit code 3" in replica["last_failure"]
    res = platform.predict_when_routed("/crashy", {})
    assert res.status_code == 200 and res.json()["pid"] == replica["pid"]
    assert "about to crash" in platform.axon_ok("logs", "crashy")


@pytest.mark.up_args("--request-timeout-ms", 700)
def test_slow_predictor_times_out_with_504(platform):
    deploy(platform, "slow", SLOW_PREDICTOR)
    assert platform.predict_when_routed("/slow", {"sleep": 0}).status_code == 200
    res = platform.predict("/slow", {"sleep": 2})
    assert res.status_code == 504  # (the replica would have answered 200 after 2 s)
    assert "did not answer within 700 ms" in res.json()["error"]
    # The replica finishes the slow call and serves again.
    wait_for(lambda: platform.predict("/slow", {"sleep": 0}).status_code == 200, timeout=10,
             message="the replica to answer again")


def test_killed_gateway_is_restarted_with_its_routes(platform):
    deploy(platform, "echo", ECHO_PREDICTOR)
    assert platform.predict_when_routed("/echo", {"n": 1}).status_code == 200
    gateway_pid = platform.gateway_pid()
    os.kill(gateway_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(gateway_pid), timeout=5, message="the gateway to die")

    def serves_again():
        try:
            res = requests.post(platform.gateway_url + "/echo", json={"n": 2}, timeout=2)
        except requests.ConnectionError:
            return None
        return res.status_code == 200 and res
    wait_for(serves_again, timeout=15, message="a new gateway to serve /echo")
    new_pid = platform.gateway_pid()
    assert new_pid != gateway_pid and pid_alive(new_pid)
    assert platform.describe("echo")["status"] == "live"


def test_killed_replica_under_load_fails_only_requests_inside_it(platform):
    spec = write_api(platform.work_dir / "busy", "busy", """\
        import time

        class PythonPredictor:
            def predict(self, payload):
                time.sleep(0.02)
                return {"ok": True}
        """, "autoscaling:\n  min_replicas: 2\n  max_replicas: 2\n")
    platform.deploy(spec)
    api = platform.wait_live("busy")
    victim = api["replicas"][0]
    assert platform.predict_when_routed("/busy", {}).status_code == 200

    clients = 4
    results = []
    stop = threading.Event()

    def client():  # bounded: at most 2000 requests each
        with requests.Session() as session:
            for _ in range(2000):
                if stop.is_set():
                    return
                try:
                    res = session.post(platform.gateway_url + "/busy", json={}, timeout=10)
                    results.append(res.status_code)
                except requests.RequestException as e:
                    results.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(results) >= 40, timeout=10, message="traffic to flow")
        os.kill(victim["pid"], signal.SIGKILL)
        wait_for(lambda: any(r["id"] == victim["id"] and r["pid"] != victim["pid"]
                             and r["state"] == "ready"
                             for r in platform.describe("busy")["replicas"]),
                 timeout=15, message="the killed replica to be replaced")
        seen = len(results)
        wait_for(lambda: len(results) >= seen + 40, timeout=10, message="traffic after")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)

    failed = [r for r in results if r != 200]
    # Only requests inside the killed replica may fail: never more than the clients in flight.
    assert len(failed) <= clients, failed
    assert all(r == 502 for r in failed), failed
