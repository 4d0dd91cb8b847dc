"""Hostile input, leaks and operator mistakes: bounded decoding, nothing internal in answers,
one platform per AXON_HOME and per port, process identity, deploys that do not block the
control plane, and the limits a user can set."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import (BIN_DIR, axon_env, free_ports, pid_alive, platform_pids, run_axon,
                      wait_for, write_api)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ECHO = """\
    class PythonPredictor:
        def predict(self, payload, headers):
            return {"echo": payload, "headers": sorted(headers)}
    """

SLOW = """\
    import time

    class PythonPredictor:
        def predict(self, payload):
            time.sleep(payload.get("sleep", 0))
            return {"slept": payload.get("sleep", 0)}
    """


@pytest.fixture(scope="module")
def mlp_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlp")
    subprocess.run([sys.executable, str(EXAMPLES / "mlp-torchscript" / "build_model.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=300)
    return out


def deploy_mlp_without_inputs(platform, mlp_model):
    """A TorchScript API whose spec declares no inputs: shapes come from the request."""
    spec = platform.work_dir / "mlp.yaml"
    spec.write_text(f"name: mlp\nkind: RealtimeAPI\npredictor:\n  type: torchscript\n"
                    f"  model_path: {mlp_model}\n")
    platform.deploy(spec)
    return platform.wait_live("mlp")["replicas"][0]["pid"]


def post_raw(platform, endpoint, body, content_type="application/json"):
    return requests.post(platform.gateway_url + endpoint, data=body, timeout=30,
                         headers={"Content-Type": content_type})


# --- 1. Bounded decoding --------------------------------------------------------------------

@pytest.mark.up_args("--max-body-bytes", 8 * 1024 * 1024)
def test_hostile_v1_bodies_are_4xx_and_the_replica_survives(platform, mlp_model):
    pid = deploy_mlp_without_inputs(platform, mlp_model)
    good = json.dumps({"instances": [[0.5] * 64]})
    assert platform.predict_when_routed("/mlp", good).status_code == 200

    # The request of the issue: a million zeros, then a million empty lists (5 MB). It used to
    # make the replica allocate 10^12 floats and die of std::bad_alloc.
    huge = '{"instances": [[' + ",".join(["0"] * 1_000_000) + "]" + ",[]" * 999_999 + "]}"
    res = post_raw(platform, "/mlp", huge)
    assert res.status_code == 400, res.text[:300]
    assert "got [0] in instances[1]" in res.json()["error"]
    # 200,000 nested '[' used to overflow the replica's stack (a 502).
    res = post_raw(platform, "/mlp", '{"instances": ' + "[" * 200_000)
    assert res.status_code == 400
    assert "levels deep" in res.json()["error"]
    # Deep but well formed; a shape that claims more than the body holds; truncated; too big.
    deep = '{"instances": [' + "[" * 5000 + "1" + "]" * 5000 + "]}"
    assert post_raw(platform, "/mlp", deep).status_code == 400
    ragged = '{"instances": [[[' + ",".join(["0"] * 1000) + "]" + ",[]" * 999 + "]]}"
    res = post_raw(platform, "/mlp", ragged)
    assert res.status_code == 400 and "cannot fit" in res.json()["error"]
    assert post_raw(platform, "/mlp", good[:-7]).status_code == 400
    assert post_raw(platform, "/mlp", "[" + "0," * 5_000_000 + "0]").status_code == 413

    assert post_raw(platform, "/mlp", good).status_code == 200
    api = platform.describe("mlp")
    assert api["replicas"][0]["pid"] == pid and api["replicas"][0]["restarts"] == 0
    assert api["status"] == "live"


def test_deeply_nested_json_to_a_python_predictor_is_a_400(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    pid = platform.wait_live("echo")["replicas"][0]["pid"]
    assert platform.predict_when_routed("/echo", {"a": 1}).status_code == 200
    res = post_raw(platform, "/echo", "[" * 200_000 + "]" * 200_000)
    assert res.status_code == 400
    assert "nest too deeply" in res.json()["error"]
    assert platform.describe("echo")["replicas"][0]["pid"] == pid


# --- 2. Nothing internal in answers -----------------------------------------------------------

LEAKY = """\
    import os

    class PythonPredictor:
        def __init__(self, config):
            self.folder = os.path.dirname(os.path.abspath(__file__))

        def predict(self, payload):
            open(os.path.join(self.folder, "missing-weights.bin"))
    """


def test_errors_and_metadata_show_no_server_paths(platform, mlp_model):
    platform.deploy(write_api(platform.work_dir / "leaky", "leaky", LEAKY))
    platform.wait_live("leaky")
    res = platform.predict_when_routed("/leaky", {}, headers={"X-Request-ID": "leak-1"})
    assert res.status_code == 500
    body = res.json()
    assert body["request_id"] == "leak-1"
    assert "FileNotFoundError" in body["error"] and "<path>" in body["error"]
    assert str(platform.home) not in res.text and "/bundles/" not in res.text
    # The log has the detail, under the request id.
    logs = wait_for(lambda: (out := platform.axon_ok("logs", "leaky")) and "leak-1" in out
                    and out, timeout=10, message="the failure in the API's log")
    assert "missing-weights.bin" in logs and "Traceback" in logs

    # A TorchScript runtime error: one line for the client, the traceback in the log.
    deploy_mlp_without_inputs(platform, mlp_model)
    res = platform.predict_when_routed("/mlp", {"instances": [[1.0, 2.0, 3.0]]},
                                       headers={"X-Request-ID": "torch-1"})
    assert res.status_code == 500, res.text
    error = res.json()["error"]
    assert "\n" not in error and "Traceback" not in error and str(platform.home) not in error
    assert "shapes cannot be multiplied" in error, error
    wait_for(lambda: "torch-1" in platform.axon_ok("logs", "mlp"), timeout=10,
             message="the torch failure in the API's log")
    metadata = requests.get(platform.gateway_url + "/mlp/metadata", timeout=10)
    assert metadata.status_code == 200
    assert "model_file" not in metadata.json()
    assert str(platform.home) not in metadata.text and "/" not in json.dumps(metadata.json()["type"])


# --- 3. One platform per AXON_HOME, one process per port ------------------------------------

def test_a_second_platform_on_busy_ports_names_the_holder(platform, tmp_path):
    other = tmp_path / "other-home"
    res = run_axon(other, "up", "--port", platform.operator_port, "--gateway-port",
                   platform.gateway_port, "--grpc-port", platform.grpc_port)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"AXON_HOME={platform.home}" in res.stderr, res.stderr
    assert "axon down" in res.stderr
    assert "already up" not in res.stdout
    # Only the gateway port taken: named the same way.
    operator_port, grpc_port = free_ports(2)
    res = run_axon(other, "up", "--port", operator_port, "--gateway-port", platform.gateway_port,
                   "--grpc-port", grpc_port)
    assert res.returncode == 1
    assert "gateway port" in res.stderr and f"AXON_HOME={platform.home}" in res.stderr

    # A second operator on the same AXON_HOME refuses to start.
    second = subprocess.run([str(BIN_DIR / "axon-operator"), "--port", str(operator_port)],
                            env=axon_env(platform.home), capture_output=True, text=True,
                            timeout=30)
    assert second.returncode == 2
    log = (platform.home / "logs" / "operator.log").read_text() + second.stdout + second.stderr
    assert "another Axon operator runs with AXON_HOME" in log
    # The first platform is unaffected, and `axon up` there says so.
    assert platform.axon("get").returncode == 0
    assert "already up" in platform.up().stdout


def test_a_port_held_by_another_program_is_named(axon_home):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import socket, sys, time
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        print(s.getsockname()[1], flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(holder.stdout.readline())
        operator_port, grpc_port = free_ports(2)
        res = run_axon(axon_home, "up", "--port", operator_port, "--gateway-port", port,
                       "--grpc-port", grpc_port)
        assert res.returncode == 1
        assert f"gateway port {port} is in use by pid {holder.pid}" in res.stderr, res.stderr
        assert "--gateway-port" in res.stderr
    finally:
        holder.kill()
        holder.wait()


def test_no_other_process_can_share_the_gateway_port(platform):
    """The gateway's listener has no SO_REUSEPORT: a second listener cannot join it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            s.bind(("127.0.0.1", platform.gateway_port))


# --- 4. Process identity and the ready timeout -------------------------------------------------

def test_a_recycled_pid_is_not_adopted(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    replica = platform.wait_live("echo")["replicas"][0]
    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    os.kill(operator_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(operator_pid), timeout=5, message="the operator to die")
    # While no operator runs, the replica dies and its pid "goes" to an unrelated process.
    os.kill(replica["pid"], signal.SIGKILL)
    stranger = subprocess.Popen(["sleep", "120"])
    try:
        db = sqlite3.connect(platform.home / "state.db")
        with db:
            db.execute("UPDATE replicas SET pid = ? WHERE id = ?", (stranger.pid, replica["id"]))
        db.close()
        assert platform.up().returncode == 0
        api = platform.wait_live("echo")
        assert all(r["pid"] != stranger.pid for r in api["replicas"])
        time.sleep(0.5)
        assert stranger.poll() is None, "the operator signalled a process that is not its replica"
    finally:
        stranger.kill()
        stranger.wait()


HANGS_LOADING = """\
    import time

    class PythonPredictor:
        def __init__(self, config):
            time.sleep(600)

        def predict(self, payload):
            return payload
    """


@pytest.mark.up_args("--ready-timeout-ms", 1500)
def test_a_replica_not_ready_in_time_is_replaced_with_the_reason(platform):
    platform.deploy(write_api(platform.work_dir / "stuck", "stuck", HANGS_LOADING))
    first = wait_for(lambda: (r := platform.describe("stuck")["replicas"]) != [] and r[0]["pid"]
                     and r[0], timeout=10, message="a replica to start")
    replaced = wait_for(lambda: (r := platform.describe("stuck")["replicas"][0])["restarts"] >= 1
                        and r, timeout=20, message="the stuck replica to be replaced")
    assert replaced["id"] == first["id"]
    assert "did not become ready within 1.5 s" in replaced["last_failure"]
    assert not pid_alive(first["pid"])


# --- 5. Deploys do not block the control plane; bundles ------------------------------------

def test_health_and_get_answer_while_a_large_model_is_deployed(platform):
    folder = platform.work_dir / "big"
    write_api(folder, "big", ECHO)
    with open(folder / "weights.bin", "wb") as f:  # sparse: cheap to make, real to copy
        f.truncate(1536 * 1024 * 1024)
    done = threading.Event()
    result = {}

    def deploy():
        result["res"] = platform.axon("deploy", folder / "axon.yaml", timeout=300)
        done.set()

    thread = threading.Thread(target=deploy)
    thread.start()
    answered_during_deploy = 0
    try:
        deadline = time.monotonic() + 300
        while not done.is_set() and time.monotonic() < deadline:
            health = requests.get(platform.operator_url + "/healthz", timeout=1)
            listing = requests.get(platform.operator_url + "/v1/apis", timeout=1,
                                   headers={"Authorization": "Bearer " + platform.token()})
            assert health.status_code == 200 and listing.status_code == 200
            if not done.is_set():
                answered_during_deploy += 1
            time.sleep(0.05)
    finally:
        thread.join(timeout=300)
    assert result["res"].returncode == 0, result["res"].stderr
    assert answered_during_deploy >= 3, answered_during_deploy
    bundles = list((platform.home / "bundles").iterdir())
    assert len(bundles) == 1

    # A change to the spec only reuses the bundle: no second copy of the model.
    spec = folder / "axon.yaml"
    spec.write_text(spec.read_text() + "  env:\n    COLOR: blue\n")
    out = platform.deploy(spec)
    assert "updated api big (version 2)" in out
    assert [b.name for b in (platform.home / "bundles").iterdir()] == [b.name for b in bundles]


def test_old_bundles_are_collected_and_rollback_reaches_the_kept_versions(platform):
    folder = platform.work_dir / "many"
    spec = write_api(folder, "many", ECHO)
    for v in range(1, 13):
        (folder / "version.txt").write_text(str(v))
        assert f"(version {v})" in platform.deploy(spec)
    bundles = [b for b in (platform.home / "bundles").iterdir()]
    assert len(bundles) == 10, bundles  # the last 10 versions, each its own bundle
    res = platform.axon("rollback", "many", "2")
    assert res.returncode != 0
    assert "keeps the last 10 versions" in res.stderr
    assert platform.axon("rollback", "many", "3").returncode == 0
    platform.axon_ok("delete", "many")
    wait_for(lambda: not list((platform.home / "bundles").iterdir()), timeout=10,
             message="the deleted API's bundles to be collected")


# --- 8. Limits ------------------------------------------------------------------------------

def test_requests_queue_up_to_max_queue_length_then_503(platform):
    platform.deploy(write_api(platform.work_dir / "slow", "slow", SLOW, textwrap.dedent("""\
        autoscaling:
          max_replica_concurrency: 1
          target_replica_concurrency: 1
          max_queue_length: 2
        """)))
    platform.wait_live("slow")
    assert platform.predict_when_routed("/slow", {"sleep": 0}).status_code == 200
    results = {}

    def call(name, sleep):
        results[name] = requests.post(platform.gateway_url + "/slow", json={"sleep": sleep},
                                      timeout=30)

    first = threading.Thread(target=call, args=("first", 2))
    first.start()
    wait_for(lambda: platform.describe("slow")["in_flight"] >= 1, timeout=5,
             message="the first request in the replica")
    queued = [threading.Thread(target=call, args=(f"queued{i}", 0)) for i in range(2)]
    for t in queued:
        t.start()
    wait_for(lambda: platform.describe("slow")["queued"] == 2, timeout=5,
             message="two requests waiting in the gateway")
    over = requests.post(platform.gateway_url + "/slow", json={"sleep": 0}, timeout=10)
    assert over.status_code == 503
    assert "at capacity" in over.json()["error"] and "max_queue_length 2" in over.json()["error"]
    for t in [first, *queued]:
        t.join(timeout=30)
    assert [results[k].status_code for k in ("first", "queued0", "queued1")] == [200] * 3


def test_networking_timeout_is_per_api(platform):
    platform.deploy(write_api(platform.work_dir / "quick", "quick", SLOW,
                              "networking:\n  timeout: 800ms\n"))
    platform.deploy(write_api(platform.work_dir / "patient", "patient", SLOW))
    platform.wait_live("quick")
    platform.wait_live("patient")
    assert platform.predict_when_routed("/quick", {"sleep": 0}).status_code == 200
    res = platform.predict("/quick", {"sleep": 2})
    assert res.status_code == 504
    assert "did not answer within 800 ms" in res.json()["error"]
    assert platform.predict_when_routed("/patient", {"sleep": 1.5}).status_code == 200


@pytest.mark.up_args("--header-timeout-ms", 1000, "--max-header-bytes", 4096)
def test_slow_and_oversized_headers_are_cut_off(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("echo")
    res = requests.post(platform.gateway_url + "/echo", json={},
                        headers={"X-Big": "x" * 5000}, timeout=10)
    assert res.status_code == 431
    # A client that sends its headers a byte at a time is disconnected after the header
    # timeout, not held forever (slowloris).
    started = time.monotonic()
    closed_after = None
    with socket.create_connection(("127.0.0.1", platform.gateway_port), timeout=10) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\n")
        for _ in range(100):  # at most 20 s of dribbling
            try:
                s.sendall(b"X")
                s.settimeout(0.2)
                data = s.recv(4096)
                if data == b"" or data.startswith(b"HTTP/1.1 408"):
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None, "the server kept a dribbling connection open"
    assert platform.predict("/echo", {"x": 1}).status_code == 200


# --- 9. Access ------------------------------------------------------------------------------

def test_api_keys(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.deploy(write_api(platform.work_dir / "locked", "locked", ECHO,
                              "networking:\n  api_keys: true\n"))
    platform.wait_live("echo")
    platform.wait_live("locked")
    assert platform.predict_when_routed("/echo", {"a": 1}).status_code == 200
    # api_keys: true locks the API before it has any key.
    res = platform.predict_when_routed("/locked", {"a": 1})
    assert res.status_code == 401 and "axon keys create locked" in res.json()["error"]

    key = platform.axon_ok("keys", "create", "echo").strip()
    assert key.startswith("axk_")
    key_id = key[:12]
    assert key_id in platform.axon_ok("keys", "list", "echo")
    assert key not in platform.axon_ok("keys", "list", "echo")
    wait_for(lambda: platform.predict("/echo", {"a": 1}).status_code == 401, timeout=10,
             message="the gateway to require the new key")
    ok = platform.predict("/echo", {"a": 1}, headers={"X-API-Key": key})
    assert ok.status_code == 200
    # The key stays at the gateway: the predictor never sees it.
    assert "x-api-key" not in [h.lower() for h in ok.json()["headers"]]
    assert platform.predict("/echo", {}, headers={"Authorization": f"Bearer {key}"}).ok
    assert platform.predict("/echo", {}, headers={"X-API-Key": key + "x"}).status_code == 401
    assert platform.predict("/locked", {}, headers={"X-API-Key": key}).status_code == 401
    (platform.work_dir / "p.json").write_text('{"c": 3}')
    assert platform.axon("predict", "echo", platform.work_dir / "p.json").returncode != 0
    assert '"c"' in platform.axon_ok("predict", "echo", platform.work_dir / "p.json", "--key", key)
    # Stored hashed: the key itself is nowhere in the state store.
    assert key.encode() not in (platform.home / "state.db").read_bytes()

    platform.axon_ok("keys", "revoke", "echo", key_id)
    res = platform.axon("keys", "revoke", "echo", key_id)
    assert res.returncode != 0 and "no key" in res.stderr
    wait_for(lambda: platform.predict("/echo", {}).status_code == 200, timeout=10,
             message="the api to be open again once its only key is revoked")
    assert platform.describe("echo")["requests_4xx"] >= 2


def make_certificate(folder):
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


def test_tls_on_the_gateway_and_the_management_api(tmp_path):
    cert, key = make_certificate(tmp_path / "tls")
    home = tmp_path / "home"
    operator_port, gateway_port, grpc_port = free_ports(3)
    up = run_axon(home, "up", "--port", operator_port, "--gateway-port", gateway_port,
                  "--grpc-port", grpc_port, "--tick-ms", 100, "--drain-ms", 2000,
                  "--tls-cert", cert, "--tls-key", key)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"https://127.0.0.1:{gateway_port}" in up.stdout
        work = tmp_path / "work"
        spec = write_api(work, "echo", ECHO)
        deployed = run_axon(home, "deploy", spec)
        assert deployed.returncode == 0, deployed.stderr
        assert run_axon(home, "get").returncode == 0
        gateway = f"https://127.0.0.1:{gateway_port}"

        def answer():
            res = requests.post(gateway + "/echo", json={"a": 1}, verify=str(cert), timeout=5)
            return res if res.status_code == 200 else None
        assert wait_for(answer, timeout=20, message="an HTTPS answer").json()["echo"] == {"a": 1}
        # Plain HTTP is not served, and an unverified certificate is refused by clients.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(f"http://127.0.0.1:{gateway_port}/echo", json={}, timeout=5)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://127.0.0.1:{operator_port}/healthz", timeout=5)
        health = requests.get(f"https://127.0.0.1:{operator_port}/healthz", verify=str(cert),
                              timeout=5)
        assert health.status_code == 200
        (work / "b.json").write_text('{"b": 2}')
        res = run_axon(home, "predict", "echo", work / "b.json")
        assert res.returncode == 0 and '"b"' in res.stdout, res.stderr
    finally:
        run_axon(home, "down")
        for pid in platform_pids(home):
            os.kill(pid, signal.SIGKILL)
