"""Fault tests: real processes killed with SIGKILL under constant load, a full filesystem, a
corrupt state store. Every loop is bounded in count and time."""

import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import (AXON, Platform, axon_env, free_ports, pid_alive, platform_pids, run_axon,
                      wait_for, write_api)

BUSY = """\
    import time

    class PythonPredictor:
        def predict(self, payload):
            time.sleep(0.01)
            return {"ok": True}
    """


class Load:
    """`clients` threads sending requests in a loop (each at most `limit`), recording every
    outcome: an HTTP status, or the exception, and when it came (time.monotonic())."""

    def __init__(self, url, clients=4, limit=20000, retry_refused=False):
        self.url = url
        self.results = []
        self.stop = threading.Event()
        self.retry_refused = retry_refused
        self.threads = [threading.Thread(target=self._run, args=(limit,)) for _ in range(clients)]
        self.clients = clients

    def _run(self, limit):
        with requests.Session() as session:
            for _ in range(limit):
                if self.stop.is_set():
                    return
                try:
                    res = session.post(self.url, json={}, timeout=30)
                    self.results.append((res.status_code, res.text[:200], time.monotonic()))
                except requests.ConnectionError as e:
                    refused = "Connection refused" in str(e)
                    if refused and self.retry_refused:
                        time.sleep(0.05)  # never reached a gateway: not a failed request
                        continue
                    self.results.append(("error", repr(e)[:200], time.monotonic()))
                except requests.RequestException as e:
                    self.results.append(("error", repr(e)[:200], time.monotonic()))

    def __enter__(self):
        for t in self.threads:
            t.start()
        wait_for(lambda: len(self.results) >= 20, timeout=15, message="traffic to flow")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=40)

    def wait_more(self, n=20, timeout=15):
        seen = len(self.results)
        wait_for(lambda: len(self.results) >= seen + n, timeout=timeout, message="more traffic")

    def failures(self):
        return [r for r in self.results if r[0] != 200]


def deploy_busy(platform, replicas=2):
    spec = write_api(platform.work_dir / "busy", "busy", BUSY,
                     f"autoscaling:\n  min_replicas: {replicas}\n  max_replicas: {replicas}\n")
    platform.deploy(spec)
    platform.wait_live("busy")
    assert platform.predict_when_routed("/busy", {}).status_code == 200
    return spec


def test_replica_sigkill_every_2s_for_60s_under_load(platform):
    deploy_busy(platform, replicas=3)
    killed = []
    with Load(platform.gateway_url + "/busy") as load:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = [r for r in platform.describe("busy")["replicas"] if r["state"] == "ready"]
            if ready:
                victim = ready[len(killed) % len(ready)]
                os.kill(victim["pid"], signal.SIGKILL)
                killed.append(victim["id"])
            time.sleep(2)
        api = platform.wait_live("busy", timeout=60)  # restart backoff is at most 30 s
        load.wait_more()
    failures = load.failures()
    # A failed request is one that was inside a killed replica: a 502 naming it, at most one
    # per client per kill; everything else succeeded.
    assert len(killed) >= 20
    assert len(failures) <= load.clients * len(killed), failures[:5]
    for status, text, _ in failures:
        assert status == 502 and any(f"replica {rid} " in text for rid in set(killed)), text
    assert len(load.results) - len(failures) > 10 * len(killed)
    assert api["status"] == "live"


def view(platform):
    api = platform.describe("busy")
    return (api["version"], api["status"],
            sorted((r["id"], r["pid"], r["version"]) for r in api["replicas"]))


def test_operator_sigkill_under_load_loses_nothing(platform):
    deploy_busy(platform)
    before = view(platform)
    listing_before = platform.axon_ok("get")
    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    with Load(platform.gateway_url + "/busy") as load:
        os.kill(operator_pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(operator_pid), timeout=5, message="the operator to die")
        load.wait_more(40)  # the gateway and replicas serve without it
        assert platform.up().returncode == 0
        wait_for(lambda: view(platform) == before, timeout=20,
                 message="the restarted operator to show what ran before")
        load.wait_more()
    assert load.failures() == []
    assert platform.axon_ok("get").split("\n")[1].split()[:4] == \
        listing_before.split("\n")[1].split()[:4]
    described = platform.axon_ok("describe", "busy")
    for replica_id, pid, _ in before[2]:
        assert replica_id in described and str(pid) in described


def test_gateway_sigkill_fails_only_requests_inside_it(platform):
    deploy_busy(platform)
    gateway_pid = platform.gateway_pid()
    with Load(platform.gateway_url + "/busy", retry_refused=True) as load:
        os.kill(gateway_pid, signal.SIGKILL)
        wait_for(lambda: platform.gateway_pid() != gateway_pid, timeout=15,
                 message="the operator to start a new gateway")
        restarted_at = time.monotonic()
        load.wait_more(40, timeout=20)
    failures = load.failures()
    # Only requests that reached the killed gateway fail: the one each client had in flight, and
    # at most one more per client whose connection the dying process's listening socket took
    # (the kernel completes a connect until that socket is closed, then resets it unanswered).
    # None fails once the new gateway runs.
    assert len(failures) <= 2 * load.clients, failures
    assert all(f[0] == "error" for f in failures), failures
    assert all(f[2] < restarted_at for f in failures), (restarted_at, failures)
    assert pid_alive(platform.gateway_pid())


def test_operator_sigkill_mid_deploy_leaves_old_or_new(platform):
    work = platform.work_dir / "pair"
    for name in ("a", "b"):
        write_api(work / name, name, BUSY)
    spec = work / "axon.yaml"

    def write_spec(color):
        spec.write_text("".join(
            f"- name: {n}\n  kind: RealtimeAPI\n  predictor:\n    type: python\n"
            f"    path: {n}/predictor.py\n    config: {{color: {color}}}\n" for n in ("a", "b")))
    write_spec("red")
    platform.deploy(spec)
    platform.wait_live("a")
    # The second deploy copies a large file for b: kill the operator while it does.
    with open(work / "b" / "weights.bin", "wb") as f:
        f.truncate(2048 * 1024 * 1024)
    write_spec("blue")
    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    deploying = subprocess.Popen([str(AXON), "deploy", str(spec)], env=axon_env(platform.home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    bundles = platform.home / "bundles"
    wait_for(lambda: any(p.name.startswith(".partial-") for p in bundles.iterdir()), timeout=60,
             interval=0.01, message="the deploy to be copying")
    os.kill(operator_pid, signal.SIGKILL)
    deploying.wait(timeout=30)
    assert deploying.returncode != 0
    assert platform.up().returncode == 0
    colors = {n: platform.describe(n)["spec"]["predictor"]["config"]["color"] for n in ("a", "b")}
    versions = {n: platform.describe(n)["version"] for n in ("a", "b")}
    assert colors in ({"a": "red", "b": "red"}, {"a": "blue", "b": "blue"}), colors
    assert len(set(versions.values())) == 1, versions
    # The same deploy works now, and the interrupted copy is gone.
    out = platform.deploy(spec)
    assert "api a" in out and "api b" in out
    assert all(platform.describe(n)["spec"]["predictor"]["config"]["color"] == "blue"
               for n in ("a", "b"))
    assert not any(p.name.startswith(".partial-") for p in bundles.iterdir())


@pytest.fixture
def small_filesystem(tmp_path):
    """A 96 MiB tmpfs (needs root); unmounted at the end."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        for pid in platform_pids(mount / "home"):
            os.kill(pid, signal.SIGKILL)
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_filesystem_fails_the_deploy_and_serving_goes_on(small_filesystem, tmp_path):
    home = small_filesystem / "home"
    operator_port, gateway_port, grpc_port = free_ports(3)
    platform = Platform(home, tmp_path / "work", operator_port, gateway_port, grpc_port)
    (tmp_path / "work").mkdir()
    assert platform.up().returncode == 0
    try:
        spec = deploy_busy(platform, replicas=1)
        # Fill the filesystem, then deploy a change with a 40 MB file.
        with open(small_filesystem / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        with open(platform.work_dir / "busy" / "weights.bin", "wb") as f:
            f.write(os.urandom(40 * 1024 * 1024))
        res = platform.axon("deploy", spec)
        assert res.returncode != 0
        assert "No space left on device" in res.stderr, res.stderr
        assert "/" not in res.stderr.split("No space left")[1][:5]
        # Still version 1, still serving; nothing half-copied left behind.
        assert platform.describe("busy")["version"] == 1
        assert platform.predict("/busy", {}).status_code == 200
        assert not any(p.name.startswith(".partial-")
                       for p in (home / "bundles").iterdir())
        # Room again: the same deploy works.
        os.remove(small_filesystem / "filler")
        assert "updated api busy (version 2)" in platform.deploy(spec)
    finally:
        platform.axon("down")


def test_a_corrupt_state_store_is_a_clear_error_at_up(axon_home):
    (axon_home / "state.db").write_bytes(b"this is not a database" * 500)
    operator_port, gateway_port, grpc_port = free_ports(3)
    res = run_axon(axon_home, "up", "--port", operator_port, "--gateway-port", gateway_port,
                   "--grpc-port", grpc_port)
    try:
        assert res.returncode != 0
        assert "is unreadable" in res.stderr, res.stderr
        assert "state.db.broken" in res.stderr
        assert "Segmentation" not in res.stderr and "Aborted" not in res.stderr
    finally:
        for pid in platform_pids(axon_home):
            os.kill(pid, signal.SIGKILL)
