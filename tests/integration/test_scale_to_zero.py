"""Scale to zero: an API with min_replicas 0 runs no replica when idle, and the first request
after idle is held by the gateway while one starts, then answered (not a 503)."""
import threading

import pytest

from conftest import wait_for, write_api

PREDICTOR = """\
    class PythonPredictor:
        def predict(self, payload):
            return {"echo": payload}
    """

ZERO = """\
autoscaling:
  min_replicas: 0
  max_replicas: 2
  window: 1s
  downscale_stabilization_period: 1s
"""


def replicas(platform, name):
    return [r for r in platform.describe(name)["replicas"] if r["state"] != "stopping"]


@pytest.mark.up_args("--autoscale-ms", "300", "--sample-ms", "100")
def test_idle_api_goes_to_zero_and_wakes_for_a_request(platform):
    spec = write_api(platform.work_dir / "nap", "nap", PREDICTOR, ZERO)
    platform.deploy(spec)
    platform.wait_routed("nap")
    # init_replicas defaults to min_replicas: nothing runs until a request comes.
    assert platform.describe("nap")["requested"] == 0
    assert replicas(platform, "nap") == []

    res = platform.predict("/nap", {"first": 1})
    assert res.status_code == 200, res.text
    assert res.json() == {"echo": {"first": 1}}
    assert platform.describe("nap")["requested"] == 1

    # Idle for longer than window + downscale stabilization: back to zero replicas.
    wait_for(lambda: platform.describe("nap")["requested"] == 0 and not replicas(platform, "nap"),
             timeout=20, message="the idle api to scale to zero")

    # Several requests at once while at zero: all are held and all are answered.
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        platform.predict("/nap", {"i": i}).status_code)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == [200] * 4


@pytest.mark.up_args("--autoscale-ms", "300", "--sample-ms", "100", "--hold-timeout-ms", "500")
def test_a_held_request_times_out_with_503_when_no_replica_can_start(platform):
    broken = PREDICTOR.replace("def predict", "def __init__(self):\n            raise "
                               "RuntimeError('no')\n\n        def predict")
    spec = write_api(platform.work_dir / "never", "never", broken, ZERO)
    platform.deploy(spec)
    platform.wait_routed("never")
    res = platform.predict("/never", {})
    assert res.status_code == 503
    # Answered when the hold times out, or as soon as the replica failed to load.
    error = res.json()["error"]
    assert "after waiting 500 ms" in error or "(status: error)" in error, error


def test_a_held_request_starts_a_replica_without_waiting_for_a_tick(platform):
    spec = write_api(platform.work_dir / "dozy", "dozy", PREDICTOR, ZERO)
    platform.deploy(spec)
    platform.wait_routed("dozy")
    platform.axon_ok("down")
    # A reconcile tick far longer than the hold timeout: the request is answered only if the
    # gateway's word (GET /_axon/held) starts the replica, and the probes while it starts
    # (--starting-tick-ms) route it. The first pass at start-up routes the API at zero.
    up = platform.axon("up", "--port", platform.operator_port, "--gateway-port",
                       platform.gateway_port, "--grpc-port", platform.grpc_port, "--tick-ms",
                       600000, "--hold-timeout-ms", 20000, "--drain-ms", 3000)
    assert up.returncode == 0, up.stdout + up.stderr
    platform.wait_routed("dozy")
    assert replicas(platform, "dozy") == []

    res = platform.predict("/dozy", {"woken": True}, timeout=25)
    assert res.status_code == 200, res.text
    assert res.json() == {"echo": {"woken": True}}
    assert platform.describe("dozy")["requested"] == 1
