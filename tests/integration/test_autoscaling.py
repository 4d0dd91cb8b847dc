"""The autoscaler with real processes: load rises -> replicas rise; load stops -> they fall.

Short windows and ticks (--autoscale-ms, --sample-ms, spec durations) keep it to seconds.
The load comes from a bounded pool of client threads against 127.0.0.1.
"""
import threading

import pytest
import requests

from conftest import wait_for, write_api

SLOW_PREDICTOR = """
    import time

    class PythonPredictor:
        def predict(self, payload):
            time.sleep(0.1)
            return {"ok": True}
    """

SCALING = """\
autoscaling:
  min_replicas: 1
  max_replicas: 3
  target_replica_concurrency: 1
  window: 2s
  upscale_stabilization_period: 0s
  downscale_stabilization_period: 3s
  max_upscale_factor: 3
"""


class Load:
    """`clients` threads posting to `path` until stopped, each at most `per_client` requests."""

    def __init__(self, platform, path, clients, per_client):
        self.stop = threading.Event()
        self.failures = []
        self.threads = [threading.Thread(target=self._client, args=(platform, path, per_client))
                        for _ in range(clients)]

    def _client(self, platform, path, per_client):
        with requests.Session() as session:
            for _ in range(per_client):
                if self.stop.is_set():
                    return
                res = session.post(platform.gateway_url + path, json={}, timeout=10)
                if res.status_code != 200:
                    self.failures.append(res.status_code)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def replica_count(platform, name):
    api = platform.describe(name)
    return api["requested"], sum(r["state"] == "ready" for r in api["replicas"])


@pytest.mark.up_args("--autoscale-ms", "500", "--sample-ms", "100")
def test_replicas_follow_load(platform):
    spec = write_api(platform.work_dir / "slow", "slow", SLOW_PREDICTOR, SCALING)
    platform.deploy(spec)
    platform.wait_live("slow")
    assert replica_count(platform, "slow") == (1, 1)

    with Load(platform, "/slow", clients=4, per_client=300) as load:
        # 4 requests in flight over a target of 1 per replica: up to max_replicas.
        wait_for(lambda: replica_count(platform, "slow") == (3, 3), timeout=20,
                 message="three ready replicas under load")
        assert "-> 3 replicas" in platform.describe("slow")["autoscaling"]
    assert load.failures == []

    # No load: after the 3 s downscale stabilization the API goes back to min_replicas.
    wait_for(lambda: replica_count(platform, "slow") == (1, 1), timeout=30,
             message="one replica after the load stopped")
    assert "-> 1 replicas" in platform.describe("slow")["autoscaling"]


@pytest.mark.up_args("--autoscale-ms", "300", "--sample-ms", "100")
def test_max_replicas_caps_the_scale(platform):
    spec = write_api(platform.work_dir / "capped", "capped", SLOW_PREDICTOR,
                     SCALING.replace("max_replicas: 3", "max_replicas: 2"))
    platform.deploy(spec)
    platform.wait_live("capped")
    with Load(platform, "/capped", clients=6, per_client=200):
        wait_for(lambda: replica_count(platform, "capped") == (2, 2), timeout=20,
                 message="two ready replicas")
        wait_for(lambda: "kept within [1, 2]" in platform.describe("capped")["autoscaling"],
                 timeout=10, message="a decision capped by max_replicas")
        assert platform.describe("capped")["requested"] == 2
