"""Standby replicas: for a native API that scales from zero, the operator keeps a replica process
with the runtime loaded (axon-replica --standby TYPE), and the next replica of that API is that
process, so a scale-up skips loading libtorch. Real processes throughout: the operator, the
standby, its hand-over over its stdin pipe, and a real TorchScript model."""

import os
import signal
import subprocess
import textwrap
import time

import numpy as np
import pytest
import torch

from conftest import BIN_DIR, READY_TIMEOUT, axon_env, pid_alive, platform_pids, wait_for
from test_native_models import build_model, predictions

UP_ARGS = ("--autoscale-ms", "300", "--sample-ms", "100")
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def mlp_model(tmp_path_factory):
    return build_model("mlp-torchscript", tmp_path_factory.mktemp("models") / "mlp")


def zero_spec(directory, model, name="mlp"):
    spec = directory / f"{name}.yaml"
    spec.write_text(textwrap.dedent(f"""\
        - name: {name}
          kind: RealtimeAPI
          predictor:
            type: torchscript
            model_path: {model}
            inputs: [{{name: x, dtype: float32, shape: [64]}}]
          autoscaling:
            min_replicas: 0
            max_replicas: 1
            window: 1s
            downscale_stabilization_period: 1s
        """))
    return spec


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def standbys(platform):
    """Pids of the platform's standby replicas that have not been assigned."""
    found = []
    for pid in platform_pids(platform.home):
        args = cmdline(pid)
        if b"--standby" in args and args[args.index(b"--standby") + 1] == b"torchscript":
            found.append(pid)
    return found


def log_text(platform, name):
    path = platform.home / "logs" / f"{name}.log"
    return path.read_text() if path.exists() else ""


@pytest.mark.up_args(*UP_ARGS)
def test_a_native_api_scales_from_zero_into_its_standby(platform, mlp_model):
    platform.deploy(zero_spec(platform.work_dir, mlp_model))
    platform.wait_routed("mlp")
    standby = wait_for(lambda: standbys(platform), message="a standby replica")[0]
    # A standby is its own process: not a replica of the API yet.
    assert platform.describe("mlp")["replicas"] == []

    x = np.random.default_rng(1).standard_normal((3, 64)).astype(np.float32)
    got = predictions(platform.predict("/mlp", {"instances": x.tolist()}, timeout=READY_TIMEOUT))
    want = torch.jit.load(str(mlp_model / "1" / "model.pt"))(torch.from_numpy(x)).detach().numpy()
    assert np.max(np.abs(got - want)) < TOLERANCE

    # The replica that answered is the standby process, told what to be over its stdin.
    assert platform.ready_pids("mlp") == [standby]
    log = log_text(platform, "mlp")
    assert "started from a standby replica" in log, log
    assert "torchscript runtime loaded" not in log, log  # loaded before, logged by the standby
    environ = open(f"/proc/{standby}/environ", "rb").read().split(b"\0")
    assert b"OMP_NUM_THREADS=1" in environ

    # Once nothing is starting, another standby takes its place.
    replacement = wait_for(lambda: [p for p in standbys(platform) if p != standby],
                           message="a new standby replica")[0]
    # Back at zero, the next wake-up uses the replacement.
    wait_for(lambda: not platform.describe("mlp")["replicas"], timeout=20,
             message="mlp to scale to zero")
    assert predictions(platform.predict("/mlp", {"instances": x.tolist()},
                                        timeout=READY_TIMEOUT)).shape == (3, 10)
    assert platform.ready_pids("mlp") == [replacement]

    # No API wants one any more: the standby is ended.
    platform.axon_ok("delete", "mlp")
    wait_for(lambda: not standbys(platform), timeout=10, message="the standby to end")


@pytest.mark.up_args(*UP_ARGS, "--standby", "false")
def test_no_standby_when_turned_off(platform, mlp_model):
    platform.deploy(zero_spec(platform.work_dir, mlp_model))
    platform.wait_routed("mlp")
    deadline = time.monotonic() + 2  # a standby starts on the first pass (100 ms ticks)
    while time.monotonic() < deadline:
        assert standbys(platform) == []
        time.sleep(0.1)
    res = platform.predict("/mlp", {"instances": [[0.0] * 64]}, timeout=READY_TIMEOUT)
    assert res.status_code == 200, res.text
    assert "torchscript runtime loaded" in log_text(platform, "mlp")


@pytest.mark.up_args(*UP_ARGS)
def test_a_standby_ends_when_its_operator_dies(platform, mlp_model):
    platform.deploy(zero_spec(platform.work_dir, mlp_model))
    platform.wait_routed("mlp")
    standby = wait_for(lambda: standbys(platform), message="a standby replica")[0]
    operator = platform.management("GET", "/healthz").json()["pid"]
    os.kill(operator, signal.SIGKILL)
    # Its stdin pipe is closed with the operator: nothing is left waiting for an assignment.
    wait_for(lambda: not pid_alive(standby), timeout=10, message="the orphaned standby to exit")
    # A new operator adopts the gateway (so that `axon down` ends it) and starts a new standby.
    assert platform.up(*UP_ARGS).returncode == 0
    wait_for(lambda: standbys(platform), message="the new operator's standby")


def run_standby(stdin_bytes, runtime="torchscript", timeout=60):
    """axon-replica --standby RUNTIME alone, with `stdin_bytes` on its stdin."""
    return subprocess.run([str(BIN_DIR / "axon-replica"), "--standby", runtime],
                          input=stdin_bytes, capture_output=True, timeout=timeout,
                          env=axon_env("/nonexistent-axon-home"))


def test_a_standby_refuses_what_it_cannot_use():
    # The operator closed the pipe before it needed the standby: a quiet exit.
    unused = run_standby(b"")
    assert unused.returncode == 0, unused.stderr
    assert b"torchscript runtime loaded" in unused.stderr
    # A line that is not an assignment: the reason, and no replica.
    garbage = run_standby(b"{\"args\": [\n")
    assert garbage.returncode == 1
    assert b"not JSON" in garbage.stderr, garbage.stderr
    bad_flag = run_standby(b'{"args": ["--io-threads", "many"], "output_file": "/dev/null"}\n')
    assert bad_flag.returncode == 1
    assert b"--io-threads" in bad_flag.stderr, bad_flag.stderr
    # Only native runtimes have anything to load in advance.
    python = run_standby(b"", runtime="python")
    assert python.returncode == 1
    assert b"expected a native runtime" in python.stderr, python.stderr
