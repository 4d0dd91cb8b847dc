"""The life of a platform and its APIs: up, deploy, update, refresh, delete, down, up again."""

import stat
import textwrap
import threading

import requests

from conftest import Platform, free_ports, pid_alive, platform_pids, wait_for, write_api

TAGGED_PREDICTOR = """\
    TAG = "{tag}"

    class PythonPredictor:
        def __init__(self, config):
            self.config = config

        def predict(self, payload):
            return {{"tag": TAG, "api": self.config.get("api"), "echo": payload}}
    """


def write_two_apis(work):
    """One spec file declaring api `alpha` (folder alpha/) and api `beta` (folder beta/)."""
    for name in ("alpha", "beta"):
        (work / name).mkdir()
        (work / name / "predictor.py").write_text(
            textwrap.dedent(TAGGED_PREDICTOR.format(tag="v1")))
    spec = work / "axon.yaml"
    spec.write_text(textwrap.dedent("""\
        # two APIs in one file
        - name: alpha
          kind: RealtimeAPI
          predictor:
            type: python
            path: alpha/predictor.py
            config: {api: alpha}
        - name: beta
          kind: RealtimeAPI
          predictor:
            type: python
            path: beta/predictor.py
            config: {api: beta}
          networking:
            endpoint: /models/beta
        """))
    return spec


def test_up_prints_addresses_and_keeps_the_token_private(platform):
    # The fixture ran `axon up` already; a second one must notice and say so.
    again = platform.up()
    assert again.returncode == 0, again.stderr
    assert "already up" in again.stdout
    assert f"127.0.0.1:{platform.gateway_port}" in again.stdout

    token = platform.home / "token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert len(token.read_text()) >= 32

    info = platform.management("GET", "/v1/info").json()
    assert pid_alive(info["pid"])
    assert info["gateway"].endswith(f":{platform.gateway_port}")


def test_up_output_names_gateway_and_operator(tmp_path):
    # A platform started by hand, to see the first `axon up`'s own output.
    operator_port, gateway_port, grpc_port = free_ports(3)
    p = Platform(tmp_path / "home", tmp_path, operator_port, gateway_port, grpc_port)
    try:
        result = p.up()
        assert result.returncode == 0, result.stderr
        assert "Axon is up" in result.stdout
        assert f"gateway:  http://127.0.0.1:{gateway_port}" in result.stdout
        assert f"gRPC:     127.0.0.1:{grpc_port}" in result.stdout
        assert f"operator: 127.0.0.1:{operator_port}" in result.stdout
        assert str(p.home) in result.stdout
    finally:
        p.axon("down")
        assert p.kill_leftovers() == []


def test_deploy_two_apis_unchanged_then_update(platform):
    spec = write_two_apis(platform.work_dir)
    out = platform.deploy("axon.yaml")
    gateway = platform.gateway_url
    assert f"created api alpha (version 1) at {gateway}/alpha" in out
    assert f"created api beta (version 1) at {gateway}/models/beta" in out

    for name, endpoint in (("alpha", "/alpha"), ("beta", "/models/beta")):
        platform.wait_live(name)
        res = platform.predict_when_routed(endpoint, {"n": 1})
        assert res.status_code == 200, res.text
        assert res.json() == {"tag": "v1", "api": name, "echo": {"n": 1}}

    # Nothing changed: nothing is redeployed.
    out = platform.deploy(spec)
    assert "unchanged api alpha (version 1)" in out
    assert "unchanged api beta (version 1)" in out
    old_pids = platform.ready_pids("alpha")
    assert len(old_pids) == 1

    # Only alpha's predictor changes: alpha becomes version 2, beta stays.
    (platform.work_dir / "alpha" / "predictor.py").write_text(
        textwrap.dedent(TAGGED_PREDICTOR.format(tag="v2")))
    out = platform.deploy("axon.yaml")
    assert "updated api alpha (version 2)" in out
    assert "unchanged api beta (version 1)" in out

    # The rollout finishes: the new code answers, only version-2 replicas remain, the old
    # replica process is gone.
    wait_for(lambda: platform.predict("/alpha", {"n": 2}).json().get("tag") == "v2",
             message="version 2 of alpha to answer")
    api = wait_for(lambda: (a := platform.describe("alpha"))["status"] == "live"
                   and all(r["version"] == 2 and r["state"] == "ready" for r in a["replicas"])
                   and a, message="alpha to be live with version 2 only")
    assert api["version"] == 2
    assert [r["pid"] for r in api["replicas"]] != old_pids
    wait_for(lambda: not pid_alive(old_pids[0]), timeout=10,
             message="the version 1 replica to exit")
    res = platform.predict("/alpha", {"n": 3})
    assert res.status_code == 200 and res.json()["tag"] == "v2"
    assert platform.predict("/models/beta", {"n": 3}).json()["tag"] == "v1"
    assert platform.describe("beta")["version"] == 1


def test_spec_change_alone_is_an_update(platform):
    spec = write_two_apis(platform.work_dir)
    platform.deploy(spec)
    platform.wait_live("beta")
    spec.write_text(spec.read_text().replace("config: {api: beta}", "config: {api: beta2}"))
    out = platform.deploy(spec)
    assert "unchanged api alpha (version 1)" in out
    assert "updated api beta (version 2)" in out
    wait_for(lambda: platform.predict("/models/beta", {}).json().get("api") == "beta2",
             message="beta's new config to be used")


def test_refresh_restarts_replicas(platform):
    spec = write_two_apis(platform.work_dir)
    platform.deploy(spec)
    before = platform.wait_live("alpha")
    old_pids = {r["pid"] for r in before["replicas"]}

    out = platform.axon_ok("refresh", "alpha")
    assert "refreshing api alpha" in out
    api = wait_for(lambda: (a := platform.describe("alpha"))["status"] == "live"
                   and len(a["replicas"]) == 1
                   and a["replicas"][0]["state"] == "ready"
                   and a["replicas"][0]["pid"] not in old_pids and a,
                   message="alpha's replica to be replaced")
    assert api["version"] == 1  # a refresh is not a new version
    wait_for(lambda: not any(pid_alive(p) for p in old_pids), timeout=10,
             message="the old replica to exit")
    res = platform.predict_when_routed("/alpha", {"after": "refresh"})
    assert res.status_code == 200
    assert res.json()["echo"] == {"after": "refresh"}

    missing = platform.axon("refresh", "nosuchapi")
    assert missing.returncode != 0
    assert "nosuchapi" in missing.stderr


def test_delete_removes_the_endpoint(platform):
    spec = write_two_apis(platform.work_dir)
    platform.deploy(spec)
    pids = platform.wait_live("alpha")["replicas"]
    assert platform.predict_when_routed("/alpha", {}).status_code == 200

    out = platform.axon_ok("delete", "alpha")
    assert "deleted api alpha" in out
    res = wait_for(lambda: (r := platform.predict("/alpha", {})).status_code == 404 and r,
                   message="/alpha to answer 404")
    assert "no API is deployed at /alpha" in res.json()["error"]
    wait_for(lambda: not pid_alive(pids[0]["pid"]), timeout=10,
             message="the deleted API's replica to exit")

    listing = platform.axon_ok("get")
    assert "alpha" not in listing and "beta" in listing
    gone = platform.axon("get", "alpha")
    assert gone.returncode != 0
    assert "no api named alpha" in gone.stderr
    # The other API of the file is untouched.
    assert platform.predict("/models/beta", {}).status_code == 200


def test_down_stops_everything_and_up_brings_apis_back(platform):
    spec = write_two_apis(platform.work_dir)
    platform.deploy(spec)
    platform.wait_live("alpha")
    platform.wait_live("beta")
    running = set(platform_pids(platform.home))
    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    gateway_pid = platform.gateway_pid()
    replica_pids = set(platform.ready_pids("alpha") + platform.ready_pids("beta"))
    assert {operator_pid, gateway_pid} | replica_pids <= running
    assert len(replica_pids) == 2

    out = platform.axon_ok("down")
    assert "done" in out
    assert [p for p in running if pid_alive(p)] == []
    assert platform_pids(platform.home) == []
    assert (platform.home / "state.db").exists()

    # The CLI now says the platform is down.
    res = platform.axon("get")
    assert res.returncode == 3
    assert "axon up" in res.stderr
    assert "not running" in platform.axon_ok("down")

    # Up again: the APIs come back from the saved state, at the same versions.
    again = platform.up()
    assert again.returncode == 0, again.stderr
    assert "Axon is up" in again.stdout
    for name, endpoint in (("alpha", "/alpha"), ("beta", "/models/beta")):
        api = platform.wait_live(name)
        assert api["version"] == 1
        assert not set(platform.ready_pids(name)) & replica_pids
        res = platform.predict_when_routed(endpoint, {"back": True})
        assert res.status_code == 200
        assert res.json() == {"tag": "v1", "api": name, "echo": {"back": True}}


def test_rolling_update_drops_no_request(platform):
    spec = write_api(platform.work_dir / "roll", "roll",
                     TAGGED_PREDICTOR.format(tag="v1"),
                     "autoscaling:\n  init_replicas: 2\n")
    platform.deploy(spec)
    api = platform.wait_live("roll")
    assert len(api["replicas"]) == 2
    old_pids = {r["pid"] for r in api["replicas"]}
    assert platform.predict_when_routed("/roll", {}).status_code == 200

    results = []
    stop = threading.Event()

    def traffic():
        with requests.Session() as session:
            while not stop.is_set() and len(results) < 5000:
                try:
                    res = session.post(platform.gateway_url + "/roll", json={"i": len(results)},
                                       timeout=10)
                    results.append((res.status_code, res.json().get("tag") or res.text))
                except requests.RequestException as e:
                    results.append((None, repr(e)))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        wait_for(lambda: len(results) >= 20, timeout=10, message="traffic to flow")
        (platform.work_dir / "roll" / "predictor.py").write_text(
            textwrap.dedent(TAGGED_PREDICTOR.format(tag="v2")))
        assert "updated api roll (version 2)" in platform.deploy(spec)
        wait_for(lambda: (a := platform.describe("roll"))["status"] == "live"
                 and len(a["replicas"]) == 2
                 and all(r["version"] == 2 and r["state"] == "ready" for r in a["replicas"]),
                 message="the rollout to finish")
        wait_for(lambda: not any(pid_alive(p) for p in old_pids), timeout=10,
                 message="the old replicas to exit")
        seen = len(results)
        wait_for(lambda: len(results) >= seen + 20, timeout=10, message="more traffic")
    finally:
        stop.set()
        thread.join(timeout=15)
    failures = [r for r in results if r[0] != 200]
    assert failures == [], f"{len(failures)} of {len(results)} requests failed: {failures[:5]}"
    tags = [tag for _, tag in results]
    assert tags[0] == "v1"
    assert set(tags) <= {"v1", "v2"}  # every reply from the old or the new version
    # After the old replicas exited only the new version answers.
    assert set(tags[seen:]) == {"v2"}


def test_rollout_follows_max_surge_and_max_unavailable(platform):
    spec_extra = ("autoscaling:\n  min_replicas: 3\n  max_replicas: 3\n"
                  "update_strategy:\n  max_surge: 1\n  max_unavailable: 0\n")
    spec = write_api(platform.work_dir / "strat", "strat", TAGGED_PREDICTOR.format(tag="v1"),
                     spec_extra)
    platform.deploy(spec)
    platform.wait_live("strat")
    (platform.work_dir / "strat" / "predictor.py").write_text(
        textwrap.dedent(TAGGED_PREDICTOR.format(tag="v2")))
    assert "updated api strat (version 2)" in platform.deploy(spec)

    observed = []  # (replicas not stopping, ready) at each look, bounded by the wait below

    def done():
        api = platform.describe("strat")
        active = [r for r in api["replicas"] if r["state"] != "stopping"]
        observed.append((len(active), sum(r["state"] == "ready" for r in active)))
        return (api["status"] == "live" and len(active) == 3
                and all(r["version"] == 2 and r["state"] == "ready" for r in active))

    wait_for(done, timeout=30, interval=0.01, message="the rollout to finish")
    assert max(total for total, _ in observed) <= 4  # 3 + max_surge
    assert min(ready for _, ready in observed) >= 3  # 3 - max_unavailable
    assert max(total for total, _ in observed) == 4  # it did surge


def test_a_version_that_never_gets_ready_leaves_the_old_one_serving(platform):
    spec = write_api(platform.work_dir / "safe", "safe", TAGGED_PREDICTOR.format(tag="v1"))
    platform.deploy(spec)
    platform.wait_live("safe")
    (platform.work_dir / "safe" / "predictor.py").write_text(textwrap.dedent("""\
        class PythonPredictor:
            def __init__(self, config):
                raise RuntimeError("v2 cannot load its model")

            def predict(self, payload):
                return {}
        """))
    assert "updated api safe (version 2)" in platform.deploy(spec)
    api = platform.wait_status("safe", "error")
    assert "v2 cannot load its model" in api["reason"]
    for _ in range(5):
        res = platform.predict("/safe", {})
        assert res.status_code == 200 and res.json()["tag"] == "v1"
    ready = [r for r in platform.describe("safe")["replicas"] if r["state"] == "ready"]
    assert [r["version"] for r in ready] == [1]


def test_versions_are_snapshots_and_rollback_returns_to_one(platform):
    directory = platform.work_dir / "snap"
    spec = write_api(directory, "snap", TAGGED_PREDICTOR.format(tag="v1"))

    def deploy_tag(tag):
        (directory / "predictor.py").write_text(textwrap.dedent(TAGGED_PREDICTOR.format(tag=tag)))
        return platform.deploy(spec)

    def serving(tag, version):
        return wait_for(lambda: (platform.describe("snap")["version"] == version
                                 and platform.wait_live("snap")
                                 and platform.predict("/snap", {}).json().get("tag") == tag),
                        message=f"version {version} serving {tag}")

    platform.deploy(spec)
    serving("v1", 1)
    assert "version 2" in deploy_tag("v2")
    serving("v2", 2)

    # Editing the folder without a deploy changes nothing, even across a restart.
    (directory / "predictor.py").write_text(textwrap.dedent(TAGGED_PREDICTOR.format(tag="v9")))
    platform.axon_ok("refresh", "snap")
    wait_for(lambda: platform.wait_live("snap")["replicas"][0]["restarts"] == 0
             and platform.predict("/snap", {}).json().get("tag") == "v2",
             message="the refreshed replica serving the snapshot")

    out = platform.axon_ok("rollback", "snap")
    assert "version 3 runs the spec and predictor of the previous version" in out
    serving("v1", 3)
    out = platform.axon_ok("rollback", "snap", "2")
    assert "version 4" in out
    serving("v2", 4)

    again = platform.axon("rollback", "snap", "2")
    assert again.returncode != 0 and "already runs the content of version 2" in again.stderr
    missing = platform.axon("rollback", "snap", "42")
    assert missing.returncode != 0 and "has no version 42" in missing.stderr
