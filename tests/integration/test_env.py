"""`axon env add | list | use | remove` and `--env NAME`: which platform the verbs talk to."""

import json
import os
import stat

from conftest import free_ports, run_axon, write_api

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_RUNNING = 3

ECHO = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            return {"echo": payload}
    """


def current_env(home):
    rows = [line.split() for line in run_axon(home, "env", "list").stdout.splitlines()[1:]]
    return [row[1] for row in rows if row[0] == "*"]


def test_verbs_follow_the_current_env_and_env_flag(platform):
    (free,) = free_ports(1)
    token = platform.token()
    platform.axon_ok("env", "add", "mirror", "--operator", platform.operator_url,
                     "--gateway", platform.gateway_url, "--token", token)
    platform.axon_ok("env", "add", "dead", "--operator", f"http://127.0.0.1:{free}",
                     "--token", token)
    listing = platform.axon_ok("env", "list")
    assert "mirror" in listing and "dead" in listing and platform.operator_url in listing
    assert current_env(platform.home) == ["local"]

    # --env before or after the verb; nothing answers for "dead", and the message names it.
    for args in (["--env", "dead", "get"], ["get", "--env", "dead"]):
        res = platform.axon(*args)
        assert res.returncode == EXIT_NOT_RUNNING, (res.stdout, res.stderr)
        assert f"127.0.0.1:{free}" in res.stderr and "env dead" in res.stderr
        assert "axon up" not in res.stderr

    platform.axon_ok("env", "use", "dead")
    assert current_env(platform.home) == ["dead"]
    assert platform.axon("get").returncode == EXIT_NOT_RUNNING
    platform.axon_ok("get", "--env", "local")

    # Through the env "mirror" (the same platform by its URLs and token): deploy and predict.
    platform.axon_ok("env", "use", "mirror")
    spec = write_api(platform.work_dir / "echo", "echo", ECHO)
    platform.axon_ok("deploy", str(spec))
    assert json.loads(platform.axon_ok("predict", "echo", "-", input='"hi"')) == {"echo": "hi"}
    assert "echo" in platform.axon_ok("get")
    platform.axon_ok("env", "add", "nogw", "--operator", platform.operator_url, "--token", token)
    res = platform.axon("predict", "echo", "-", "--env", "nogw", input="{}")
    assert res.returncode == EXIT_BAD_INPUT and "names no gateway" in res.stderr, res.stderr

    # The files went along (an operator elsewhere cannot read this disk); its errors name
    # this machine's paths, never the folder it unpacked them in.
    broken = platform.work_dir / "broken"
    write_api(broken, "broken", ECHO)
    (broken / "predictor.py").unlink()
    res = platform.axon("deploy", str(broken / "axon.yaml"))
    assert res.returncode == EXIT_BAD_INPUT, (res.stdout, res.stderr)
    assert str(broken) in res.stderr and "upload" not in res.stderr, res.stderr
    assert not list((platform.home / "uploads").glob("*")), "the unpacked files are removed"

    # A wrong token is the operator's 401.
    platform.axon_ok("env", "add", "wrong", "--operator", platform.operator_url, "--token", "x")
    res = platform.axon("get", "--env", "wrong")
    assert res.returncode == EXIT_FAILED and "token" in res.stderr, res.stderr

    # Removing the current env falls back to local; `axon down` is always the local platform.
    assert "the current env is local" in platform.axon_ok("env", "remove", "mirror")
    assert current_env(platform.home) == ["local"]
    platform.axon_ok("env", "use", "dead")
    platform.axon_ok("down")
    assert platform.axon("get", "--env", "local").returncode == EXIT_NOT_RUNNING


def test_env_file_is_owner_only_and_bad_input_is_explained(axon_home):
    home = axon_home
    res = run_axon(home, "env", "add", "prod", "--operator", "10.0.0.5:31889", "--token", "t")
    assert res.returncode == EXIT_BAD_INPUT
    assert 'operator "10.0.0.5:31889": not an http(s) URL' in res.stderr
    assert "http://HOST:PORT" in res.stderr
    res = run_axon(home, "env", "add", "Prod", "--operator", "http://h:1", "--token", "t")
    assert res.returncode == EXIT_BAD_INPUT and "lowercase" in res.stderr
    res = run_axon(home, "env", "add", "local", "--operator", "http://h:1", "--token", "t")
    assert res.returncode == EXIT_BAD_INPUT and "axon up" in res.stderr
    for args, message in ((["env", "use", "nope"], 'no env "nope"'),
                          (["env", "remove", "nope"], 'no env "nope"'),
                          (["env", "remove", "local"], "cannot be removed"),
                          (["--env", "nope", "get"], 'no env "nope"')):
        res = run_axon(home, *args)
        assert res.returncode == EXIT_BAD_INPUT, (args, res.stderr)
        assert message in res.stderr, (args, res.stderr)

    res = run_axon(home, "env", "add", "prod", "--operator", "https://axon.example:443",
                   "--gateway", "https://axon.example:8443", "--token", "secret")
    assert res.returncode == 0, res.stderr
    envs_file = home / "cli_envs.json"
    assert stat.S_IMODE(os.stat(envs_file).st_mode) == 0o600
    saved = json.loads(envs_file.read_text())
    assert saved["current"] == "local"
    assert saved["envs"]["prod"]["gateway"] == "https://axon.example:8443"

    envs_file.write_text('{"current": "gone", "envs": {}}')
    res = run_axon(home, "get")
    assert res.returncode == EXIT_BAD_INPUT
    assert str(envs_file) in res.stderr and 'current env "gone"' in res.stderr
    envs_file.write_text("{oops")
    res = run_axon(home, "env", "list")
    assert res.returncode == EXIT_BAD_INPUT and "not valid JSON" in res.stderr


def test_cluster_verbs_need_a_cluster_env(axon_home):
    res = run_axon(axon_home, "cluster", "info")
    assert res.returncode == EXIT_BAD_INPUT
    assert "env local is not a cluster installed with `axon cluster install`" in res.stderr
    res = run_axon(axon_home, "cluster", "install", "--kubeconfig", str(axon_home / "none"),
                   "--env", "k8s")
    assert res.returncode == EXIT_BAD_INPUT and "--kubeconfig" in res.stderr, res.stderr
    res = run_axon(axon_home, "cluster", "install", "--kubeconfig", "x", "--env", "k8s",
                   "--namespace", "default")
    assert res.returncode == EXIT_BAD_INPUT and "Axon owns its namespace" in res.stderr
    res = run_axon(axon_home, "cluster", "install", "--kubeconfig", "x", "--env", "k8s",
                   "--state-size", "lots")
    assert res.returncode == EXIT_BAD_INPUT and "--state-size lots" in res.stderr, res.stderr
    assert "(e.g. 10Gi)" in res.stderr
