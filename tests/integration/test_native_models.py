"""Native model predictors (TorchScript, ONNX through OpenCV DNN, XGBoost) served by real
replicas, checked against the Python runtimes that built the models; V1 JSON errors; model
metadata; model file errors at deploy time."""

import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import xgboost

from conftest import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOLERANCE = 1e-5


def build_model(example, out):
    """Runs examples/EXAMPLE/build_model.py --out OUT (the same script the examples use)."""
    subprocess.run([sys.executable, str(EXAMPLES / example / "build_model.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return out


def resnet_module():
    """The torch module the ONNX example exports (same seed, same weights)."""
    spec = importlib.util.spec_from_file_location("resnet_build",
                                                  EXAMPLES / "resnet-onnx" / "build_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_model()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        "mlp": build_model("mlp-torchscript", root / "mlp"),
        "resnet": build_model("resnet-onnx", root / "resnet"),
        "tabular": build_model("xgboost-tabular", root / "tabular"),
    }


def native_spec(directory, models, extra=""):
    spec = Path(directory) / "axon.yaml"
    spec.write_text(textwrap.dedent(f"""\
        - name: mlp
          kind: RealtimeAPI
          predictor:
            type: torchscript
            model_path: {models["mlp"]}
            inputs: [{{name: x, dtype: float32, shape: [64]}}]
        - name: resnet
          kind: RealtimeAPI
          predictor:
            type: onnx
            model_path: {models["resnet"]}
        - name: tabular
          kind: RealtimeAPI
          predictor:
            type: xgboost
            model_path: {models["tabular"]}
        """) + extra)
    return spec


def predictions(res):
    assert res.status_code == 200, res.text
    return np.array(res.json()["predictions"], dtype=np.float64)


def test_outputs_equal_the_python_runtimes(platform, models):
    platform.deploy(native_spec(platform.work_dir, models))
    for name in ("mlp", "resnet", "tabular"):
        platform.wait_live(name)
    rng = np.random.default_rng(0)
    mlp = torch.jit.load(str(models["mlp"] / "1" / "model.pt"))
    resnet = resnet_module()
    booster = xgboost.Booster(model_file=str(models["tabular"] / "model.json"))
    cases = {
        "mlp": (lambda n: rng.standard_normal((n, 64)).astype(np.float32),
                lambda x: mlp(torch.from_numpy(x)).detach().numpy()),
        "resnet": (lambda n: rng.standard_normal((n, 3, 32, 32)).astype(np.float32),
                   lambda x: resnet(torch.from_numpy(x)).detach().numpy()),
        "tabular": (lambda n: rng.standard_normal((n, 8)).astype(np.float32),
                    lambda x: booster.predict(xgboost.DMatrix(x))),
    }
    for name, (make, reference) in cases.items():
        for n in (1, 5):  # batch 1, and one request carrying a batch of instances
            x = make(n)
            got = predictions(platform.predict_when_routed(f"/{name}",
                                                           {"instances": x.tolist()}))
            want = reference(x)
            assert got.shape == want.shape, name
            assert np.max(np.abs(got - want)) < TOLERANCE, (name, n)


def test_metadata_describes_inputs_and_outputs(platform, models):
    platform.deploy(native_spec(platform.work_dir, models))
    platform.wait_live("resnet")
    platform.wait_live("tabular")
    platform.wait_live("mlp")
    resnet = platform.predict_when_routed("/resnet/metadata", method="GET").json()
    assert resnet["type"] == "onnx" and resnet["model_version"] == 1
    assert resnet["inputs"] == [{"name": "image", "dtype": "float32", "shape": [-1, 3, 32, 32]}]
    assert resnet["outputs"] == [{"name": "logits", "dtype": "float32", "shape": [-1, 10]}]
    tabular = platform.predict("/tabular/metadata", method="GET").json()
    assert tabular["inputs"] == [{"name": "features", "dtype": "float32", "shape": [-1, 8]}]
    mlp = platform.predict("/mlp/metadata", method="GET").json()  # from the spec
    assert mlp["inputs"] == [{"name": "x", "dtype": "float32", "shape": [-1, 64]}]
    described = platform.axon_ok("describe", "resnet")
    assert "image" in described and "[-1, 3, 32, 32]" in described, described
    assert platform.predict("/resnet/metadata", {"x": 1}).status_code == 405
    # Statistics count predictions only: after one prediction and several metadata calls, 1.
    assert platform.predict("/resnet", {"instances": [np.zeros((3, 32, 32)).tolist()]}).ok
    wait_for(lambda: platform.describe("resnet")["requests_2xx"] >= 1, message="stats")
    assert platform.describe("resnet")["requests_2xx"] == 1


def test_bad_requests_get_clear_errors(platform, models):
    platform.deploy(native_spec(platform.work_dir, models))
    platform.wait_live("mlp")
    platform.wait_live("resnet")

    def error(endpoint, body, **kwargs):
        res = platform.predict_when_routed(endpoint, body, **kwargs)
        assert res.status_code == 400, res.text
        return res.json()["error"]

    message = error("/mlp", {"instances": [[0.5] * 63]})
    assert "expects shape [64]" in message and "got [63]" in message, message
    message = error("/resnet", {"instances": [np.zeros((3, 32, 31)).tolist()]})
    assert "[3, 32, 32]" in message and "got [3, 32, 31]" in message, message
    message = error("/mlp", {"instances": [["a"] * 64]})
    assert "must be float32" in message, message
    message = error("/mlp", {"instances": [{"y": [0.5] * 64}]})
    assert 'lacks input "x"' in message, message
    assert "instances" in error("/mlp", {"inputs": [[1]]})
    assert "malformed JSON" in error("/mlp", "{not json")
    res = platform.predict("/mlp", method="GET")
    assert res.status_code == 405 and "POST" in res.json()["error"]
    # The replica survived all of it.
    ok = platform.predict("/mlp", {"instances": [[0.5] * 64]})
    assert ok.status_code == 200
    assert "X-Axon-Batch-Size" not in ok.headers  # only batched answers carry it


def test_model_file_errors_surface_at_deploy(platform, models, tmp_path):
    corrupt = tmp_path / "corrupt"
    (corrupt / "1").mkdir(parents=True)
    (corrupt / "1" / "model.onnx").write_bytes(b"this is not a protobuf")
    missing = tmp_path / "missing"
    (missing / "1").mkdir(parents=True)  # a version folder without a model file
    spec = platform.work_dir / "broken.yaml"
    spec.write_text(textwrap.dedent(f"""\
        - name: corrupt
          kind: RealtimeAPI
          predictor: {{type: onnx, model_path: {corrupt}}}
        - name: missing
          kind: RealtimeAPI
          predictor: {{type: onnx, model_path: {missing}}}
        - name: mismatch
          kind: RealtimeAPI
          predictor:
            type: onnx
            model_path: {models["resnet"]}
            inputs: [{{name: image, dtype: float32, shape: [3, 16, 16]}}]
        """))
    platform.deploy(spec)
    corrupt_api = platform.wait_status("corrupt", "error")
    assert "cannot load ONNX model" in json.dumps(corrupt_api), corrupt_api
    missing_api = platform.wait_status("missing", "error")
    assert "no onnx model file (.onnx)" in json.dumps(missing_api), missing_api
    mismatch_api = platform.wait_status("mismatch", "error")
    assert "the graph has float32 [-1, 3, 32, 32]" in json.dumps(mismatch_api), mismatch_api

    absent = platform.work_dir / "absent.yaml"
    absent.write_text("name: absent\nkind: RealtimeAPI\n"
                      "predictor: {type: xgboost, model_path: nowhere}\n")
    result = platform.axon("deploy", absent)
    assert result.returncode == 2
    assert "predictor.model_path: not found" in result.stderr, result.stderr


def test_model_version_folders(platform, models, tmp_path):
    versions = tmp_path / "versions"
    shutil.copytree(models["mlp"], versions)  # 1/model.pt
    (versions / "2").mkdir()
    torch.manual_seed(1)
    torch.jit.save(torch.jit.trace(torch.nn.Linear(64, 3), torch.zeros(1, 64)),
                   str(versions / "2" / "model.pt"))
    spec = platform.work_dir / "versions.yaml"
    spec.write_text(f"- name: latest\n  kind: RealtimeAPI\n"
                    f"  predictor: {{type: torchscript, model_path: {versions}}}\n"
                    f"- name: pinned\n  kind: RealtimeAPI\n"
                    f"  predictor: {{type: torchscript, model_path: {versions}, model_version: 1}}\n")
    platform.deploy(spec)
    platform.wait_live("latest")
    platform.wait_live("pinned")
    body = {"instances": [[0.1] * 64]}
    assert predictions(platform.predict_when_routed("/latest", body)).shape == (1, 3)
    assert predictions(platform.predict_when_routed("/pinned", body)).shape == (1, 10)
    meta = platform.predict("/latest/metadata", method="GET").json()
    assert meta["model_version"] == 2
