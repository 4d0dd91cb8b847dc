"""The Python client (clients/python/axon) against a real platform of the build folder."""

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import free_ports, wait_for, write_api

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
import axon  # noqa: E402  (the client of this source tree, not an installed one)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ECHO_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            print("echo predictor loaded", flush=True)

        def predict(self, payload):
            if payload == "fail":
                raise RuntimeError("asked to fail")
            if isinstance(payload, bytes):
                return {"bytes": len(payload)}
            return {"echo": payload}
    """


def client_for(platform, **kwargs):
    return axon.Client(home=platform.home, **kwargs)


def predict_when_routed(client, name, payload):
    """predict(), retried while the gateway has not received the API's route yet: the operator
    reports "live" within the reconcile tick that pushes the route (see conftest)."""
    def attempt():
        try:
            return client.predict(name, payload)
        except axon.ApiError as e:
            if e.status == 503 and "no ready replica" in e.message:
                return None
            raise
    return wait_for(attempt, message=f"a routed answer from {name}")


def test_deploy_predict_list_get_logs_refresh_delete(platform):
    client = client_for(platform)
    assert client.environment.name == "local"
    assert client.environment.operator_url == platform.operator_url
    assert client.environment.gateway_url == platform.gateway_url
    cli = json.loads(platform.axon_ok("version", "-o", "json"))["cli"]
    info = client.info()
    assert (info["version"], info["commit"]) == (cli["version"], cli["commit"])

    # A spec file (the text example) and a spec given as a dict, deployed and waited for.
    results = client.deploy(EXAMPLES / "text" / "axon.yaml")
    assert results == [{"api": "sentiment", "action": "created", "version": 1,
                        "endpoint": "/sentiment"}]
    assert client.get("sentiment")["status"] == "live"  # wait=True returned only once live
    write_api(platform.work_dir / "echo", "unused", ECHO_PREDICTOR)
    spec = {"name": "echo", "kind": "RealtimeAPI",
            "predictor": {"type": "python", "path": "echo/predictor.py"}}
    results = client.deploy(spec, base_dir=platform.work_dir)
    assert [(r["api"], r["action"]) for r in results] == [("echo", "created")]
    assert client.deploy(spec, base_dir=platform.work_dir)[0]["action"] == "unchanged"

    answer = predict_when_routed(client, "sentiment", "a great and wonderful day")
    assert answer["label"] == "positive" and answer["words"] == 5
    assert client.predict("sentiment", {"text": "this is bad"})["label"] == "negative"
    assert predict_when_routed(client, "echo", {"a": [1, 2]}) == {"echo": {"a": [1, 2]}}
    assert client.predict("echo", b"raw") == {"bytes": 3}  # sent as application/octet-stream

    # The platform's error, with its status, as an exception.
    with pytest.raises(axon.ApiError) as failed:
        client.predict("echo", "fail")
    assert failed.value.status == 500 and "asked to fail" in failed.value.message

    listing = {a["name"]: a for a in client.list()}
    assert set(listing) == {"sentiment", "echo"}
    assert listing["sentiment"]["requests_2xx"] == 2
    assert client.get("echo")["replicas"][0]["state"] == "ready"

    assert "echo predictor loaded" in client.logs("echo")
    assert client.logs("echo", tail=1).count("\n") == 1

    before = platform.ready_pids("echo")
    client.refresh("echo")
    wait_for(lambda: (pids := platform.ready_pids("echo")) and pids != before and
             client.get("echo")["status"] == "live", message="refreshed replicas")

    client.delete("sentiment")
    with pytest.raises(axon.ApiError) as missing:
        client.get("sentiment")
    assert missing.value.status == 404
    assert missing.value.message == "no api named sentiment (see `axon get`)"
    assert [a["name"] for a in client.list()] == ["echo"]


def test_logs_follow_yields_new_lines_and_ends_when_the_api_is_deleted(platform):
    client = client_for(platform)
    write_api(platform.work_dir / "echo", "echo", """\
        class PythonPredictor:
            def __init__(self, config):
                pass

            def predict(self, payload):
                print("got", payload, flush=True)
                return "ok"
        """)
    client.deploy(platform.work_dir / "echo" / "axon.yaml")
    lines = client.logs("echo", follow=True, tail=0)
    predict_when_routed(client, "echo", "first")
    seen = []
    for line in lines:
        assert line.endswith("\n")
        seen.append(line)
        if "got first" in line:
            break
    client.predict("echo", "second")
    for line in lines:
        seen.append(line)
        if "got second" in line:
            break
    client.delete("echo")
    rest = list(lines)  # ends by itself once the API is gone
    assert not any("got" in line for line in rest)
    assert any("got first" in line for line in seen) and any("got second" in line for line in seen)


def test_deploy_errors_carry_the_platform_message(platform, monkeypatch):
    client = client_for(platform)
    bad = platform.work_dir / "bad.yaml"
    write_api(platform.work_dir, "unused", ECHO_PREDICTOR)
    bad.write_text(textwrap.dedent("""\
        - name: bad
          kind: RealtimeAPI
          predictor: {type: python, path: predictor.py}
          autoscaling: {min_replica: 2}
        """))
    monkeypatch.chdir(platform.work_dir)  # the path as the caller gave it stays in messages
    with pytest.raises(axon.ApiError) as invalid:
        client.deploy("bad.yaml")
    assert invalid.value.status == 400
    assert invalid.value.message.startswith(
        'bad.yaml:4: api "bad": autoscaling.min_replica: unknown field; did you mean '
        '"min_replicas"?'), invalid.value.message
    with pytest.raises(axon.ApiError) as invalid_dict:
        client.deploy({"name": "Bad", "kind": "RealtimeAPI",
                       "predictor": {"type": "python", "path": "predictor.py"}})
    assert invalid_dict.value.message.startswith("<dict>:2: api #1: name: must be a lowercase"), \
        invalid_dict.value.message
    with pytest.raises(axon.AxonError, match="cannot read nothere.yaml"):
        client.deploy("nothere.yaml")

    # A predictor whose __init__ raises: deploy(wait=True) raises with the platform's reason.
    write_api(platform.work_dir / "broken", "broken", """\
        class PythonPredictor:
            def __init__(self, config):
                raise ValueError("no weights here")
        """)
    with pytest.raises(axon.DeployError) as broken:
        client.deploy(platform.work_dir / "broken" / "axon.yaml", timeout=30)
    assert broken.value.api == "broken"
    assert "no weights here" in broken.value.reason
    # Without waiting, the deploy itself succeeds.
    assert client.deploy(platform.work_dir / "broken" / "axon.yaml", wait=False)[0]["action"] \
        == "unchanged"

    with pytest.raises(axon.WaitTimeout) as slow:
        write_api(platform.work_dir / "slow", "slow", """\
            import time
            class PythonPredictor:
                def __init__(self, config):
                    time.sleep(30)
            """)
        client.deploy(platform.work_dir / "slow" / "axon.yaml", timeout=0.5)
    assert slow.value.statuses == {"slow": "updating"}


def test_environments_file_names_platforms(platform, monkeypatch):
    home = platform.home
    token = platform.token()
    envs = {"default": "here",
            "environments": {
                "here": {"operator_url": platform.operator_url + "/",
                         "gateway_url": platform.gateway_url, "token": token},
                "wrong-token": {"operator_url": platform.operator_url,
                                "gateway_url": platform.gateway_url, "token": "x" * 64},
                "nowhere": {"operator_url": "http://127.0.0.1:%d" % free_ports(1)[0],
                            "gateway_url": "http://127.0.0.1:1", "token": "t"}}}
    (home / "environments.json").write_text(json.dumps(envs))
    default = axon.Client(home=home)
    assert default.environment.name == "here"
    assert default.environment.operator_url == platform.operator_url  # trailing / dropped
    assert default.list() == []
    assert axon.Client("local", home=home).list() == []
    with pytest.raises(axon.ApiError) as denied:
        axon.Client("wrong-token", home=home).list()
    assert denied.value.status == 401 and "token" in denied.value.message
    with pytest.raises(axon.NotRunningError, match="not reachable at http://127.0.0.1:"):
        axon.Client("nowhere", home=home).list()
    with pytest.raises(axon.ConfigError, match=r"no environment named 'prod' \(known: local, "
                       r"here, nowhere, wrong-token\)"):
        axon.Client("prod", home=home)

    # AXON_HOME is read as the CLI reads it: relative to the current folder.
    monkeypatch.chdir(home.parent)
    monkeypatch.setenv("AXON_HOME", home.name)
    assert axon.Client().environment.name == "here"
    assert axon.axon_home() == home


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"defaults": "x"}', "unknown field 'defaults'"),
    ('{"default": "prod"}', "default: 'prod' is not \"local\" nor an environment"),
    ('{"environments": {"local": {}}}', "environments.local: \"local\" is reserved"),
    ('{"environments": {"p": {"gateway_url": "http://h", "token": "t"}}}',
     "environments.p: operator_url is missing"),
    ('{"environments": {"p": {"operator_url": "h:1", "gateway_url": "http://h", "token": "t"}}}',
     "environments.p: operator_url: must start with http:// or https://, got 'h:1'"),
    ('{"environments": {"p": {"operator_url": "http://h", "gateway_url": "http://h",'
     ' "token": "t", "ca": "x"}}}', "environments.p: unknown field 'ca'"),
])
def test_malformed_environments_file_is_a_clear_error(tmp_path, content, message):
    (tmp_path / "environments.json").write_text(content)
    with pytest.raises(axon.ConfigError) as error:
        axon.Client(home=tmp_path)
    assert str(tmp_path / "environments.json") in error.value.message
    assert message in error.value.message, error.value.message


def test_remote_environment_with_a_bad_ca_file(tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate")
    (tmp_path / "environments.json").write_text(json.dumps({"environments": {"k": {
        "operator_url": "https://127.0.0.1:1", "gateway_url": "https://127.0.0.1:1",
        "token": "t", "ca_file": "ca.pem"}}}))
    env = axon.load_environment("k", home=tmp_path)
    assert env.ca_file == str(tmp_path / "ca.pem")  # relative to AXON_HOME
    with pytest.raises(axon.ConfigError, match=r"environment 'k': ca_file .*ca.pem: "):
        axon.Client("k", home=tmp_path)


def test_local_platform_not_running(axon_home):
    client = axon.Client(home=axon_home)
    with pytest.raises(axon.NotRunningError) as error:
        client.list()
    assert "start it with `axon up`" in error.value.message
    assert client.environment.operator_url in error.value.message


def test_client_version_is_the_project_version():
    cmake = (Path(__file__).resolve().parents[2] / "CMakeLists.txt").read_text()
    assert f"project(axon VERSION {axon.__version__} " in cmake
