"""The Open Inference Protocol (KServe v2) over HTTP, with requests: every endpoint, every
datatype (through a Python predict_v2() that echoes its inputs), flat and nested JSON data,
binary inputs and outputs and a mix of both, a native model (checked against torch), lossless
conversions, batching, version paths during a rollout, and each error case."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

import v2_client as v2
from conftest import wait_for, write_api

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ECHO = """\
    import numpy as np

    class BadInput(Exception):
        status_code = 422

    class PythonPredictor:
        def predict_v2(self, inputs, parameters):
            mode = parameters.get("mode")
            if mode == "raise":
                raise RuntimeError("predict_v2 failed on purpose")
            if mode == "reject":
                raise BadInput("this input is refused")
            if mode == "list":
                return [1, 2]
            if mode == "complex":
                return {"c": np.zeros(2, dtype=np.complex64)}
            out = {name: array for name, array in inputs.items()}
            out["count"] = np.array([len(inputs)], dtype=np.int32)
            return out
    """

# One tensor of every datatype, with values at the ends of its range.
TENSORS = {
    "bool": np.array([[True, False, True]]),
    "uint8": np.array([[0, 7, 255]], dtype=np.uint8),
    "uint16": np.array([[0, 1, 65535]], dtype=np.uint16),
    "uint32": np.array([[0, 1, 2**32 - 1]], dtype=np.uint32),
    "uint64": np.array([[0, 1, 2**64 - 1]], dtype=np.uint64),
    "int8": np.array([[-128, 0, 127]], dtype=np.int8),
    "int16": np.array([[-32768, 0, 32767]], dtype=np.int16),
    "int32": np.array([[-2**31, 0, 2**31 - 1]], dtype=np.int32),
    "int64": np.array([[-2**63, 0, 2**63 - 1]], dtype=np.int64),
    "float16": np.array([[-2.5, 0.0009765625, 65504]], dtype=np.float16),
    "float32": np.array([[-1.5, 3.4028235e38, 1e-30]], dtype=np.float32),
    "float64": np.array([[-1e300, 0.1, 5e-324]], dtype=np.float64),
    "bytes": np.array([["héllo", "", "a b"]], dtype=object),
}


def build_mlp(out):
    subprocess.run([sys.executable, str(EXAMPLES / "mlp-torchscript" / "build_model.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=300)
    return out


def mlp_spec(directory, model, name="mlp", extra=""):
    spec = Path(directory) / f"{name}.yaml"
    spec.write_text(f"""\
name: {name}
kind: RealtimeAPI
predictor:
  type: torchscript
  model_path: {model}
  inputs: [{{name: x, dtype: float32, shape: [64]}}]
{extra}""")
    return spec


def infer(platform, model, inputs, path=None, **kwargs):
    body, headers = v2.request(inputs, **kwargs)
    return platform.http.post(platform.gateway_url + (path or f"/v2/models/{model}/infer"),
                              data=body, headers=headers, timeout=10)


def infer_when_routed(platform, model, inputs, **kwargs):
    def attempt():
        res = infer(platform, model, inputs, **kwargs)
        return None if res.status_code == 503 else res
    return wait_for(attempt, message=f"model {model} to answer")


def assert_clean_error(res, status, phrase):
    """An error answer: the status, {"error": ...} naming the problem, no traceback, no paths."""
    assert res.status_code == status, (res.status_code, res.text)
    error = res.json()["error"]
    assert phrase in error, error
    assert "Traceback" not in error and "/tmp/" not in error and ".py\"" not in error, error


def test_server_health_and_metadata(platform):
    live = platform.http.get(platform.gateway_url + "/v2/health/live", timeout=10)
    assert live.status_code == 200 and live.json() == {"live": True}
    ready = platform.http.get(platform.gateway_url + "/v2/health/ready", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"ready": True}  # no APIs yet
    meta = platform.http.get(platform.gateway_url + "/v2", timeout=10).json()
    assert meta["name"] == "axon"
    assert meta["version"] in platform.axon_ok("version")
    assert meta["extensions"] == ["binary_tensor_data"]
    res = platform.http.post(platform.gateway_url + "/v2/health/live", timeout=10)
    assert_clean_error(res, 405, "use GET")
    assert_clean_error(platform.http.get(platform.gateway_url + "/v2/repository", timeout=10),
                       404, "no such path in the Open Inference Protocol")
    assert_clean_error(platform.http.get(platform.gateway_url + "/v2/models/nope", timeout=10),
                       404, 'no model named "nope"')
    assert_clean_error(infer(platform, "nope", {"x": np.zeros((1, 1), np.float32)}), 404,
                       'no model named "nope"')


def test_every_datatype_round_trips_as_json_and_binary(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("echo")
    inputs = {name: array for name, array in TENSORS.items()}
    res = infer_when_routed(platform, "echo", inputs)
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"] == "application/json"
    doc, arrays, binary = v2.parse(res)
    assert doc["model_name"] == "echo" and doc["model_version"] == "1"
    assert not any(binary.values())
    for name, array in TENSORS.items():
        got = arrays[name]
        assert got.dtype == (object if name == "bytes" else array.dtype), name
        assert got.shape == array.shape, name
        want = np.array([[e.encode() for e in array[0]]], dtype=object) if name == "bytes" else array
        assert np.array_equal(got, want), (name, got, want)
        assert [o for o in doc["outputs"] if o["name"] == name][0]["datatype"] == \
            v2.DATATYPES[array.dtype.name]
    assert arrays["count"].tolist() == [len(TENSORS)]

    # Nested data, every input binary, every output binary: the same tensors.
    nested = infer(platform, "echo", inputs, nested=True)
    assert nested.status_code == 200, nested.text
    assert v2.parse(nested)[1]["int64"].tolist() == TENSORS["int64"].tolist()
    res = infer(platform, "echo", inputs, binary_inputs=set(inputs), binary_output=True)
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"] == "application/octet-stream"
    assert int(res.headers[v2.HEADER]) < len(res.content)
    doc, arrays, binary = v2.parse(res)
    assert all(binary.values())
    for name, array in TENSORS.items():
        want = np.array([[e.encode() for e in array[0]]], dtype=object) if name == "bytes" else array
        assert np.array_equal(arrays[name], want), name
    # Binary BYTES carry any bytes, JSON only text.
    raw = np.array([b"\xff\x00", b"ok"], dtype=object)
    res = infer(platform, "echo", {"raw": raw}, binary_inputs={"raw"}, binary_output=True)
    assert res.status_code == 200, res.text
    assert v2.parse(res)[1]["raw"].tolist() == [b"\xff\x00", b"ok"]
    res = infer(platform, "echo", {"raw": raw}, binary_inputs={"raw"})
    assert_clean_error(res, 400, "not UTF-8 text, which JSON cannot carry")


def test_mixed_binary_and_json_outputs(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("echo")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1, -1], dtype=np.int64)
    # b as binary by its own parameter, count as JSON, a binary by binary_data_output.
    res = infer_when_routed(platform, "echo", {"a": a, "b": b}, binary_inputs={"a"},
                            outputs=[("b", True), ("count", False), "a"], binary_output=True,
                            id="req-7")
    assert res.status_code == 200, res.text
    doc, arrays, binary = v2.parse(res)
    assert doc["id"] == "req-7"
    assert [o["name"] for o in doc["outputs"]] == ["b", "count", "a"]  # the order asked for
    assert binary == {"b": True, "count": False, "a": True}
    assert np.array_equal(arrays["a"], a) and np.array_equal(arrays["b"], b)
    assert doc["outputs"][1]["data"] == [2]
    res = infer(platform, "echo", {"a": a}, outputs=["zzz"])
    assert_clean_error(res, 400, 'no output "zzz"')


def test_native_model_gives_the_same_numbers_in_json_and_binary(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model))
    platform.wait_live("mlp")
    x = np.random.default_rng(0).standard_normal((5, 64)).astype(np.float32)
    want = torch.jit.load(str(model / "1" / "model.pt"))(torch.from_numpy(x)).detach().numpy()
    res = infer_when_routed(platform, "mlp", {"x": x})
    assert res.status_code == 200, res.text
    doc, arrays, _ = v2.parse(res)
    assert doc["model_name"] == "mlp" and doc["model_version"] == "1"
    assert doc["outputs"][0]["name"] == "output" and doc["outputs"][0]["shape"] == [5, 10]
    assert np.max(np.abs(arrays["output"] - want)) < 1e-5
    binary = infer(platform, "mlp", {"x": x}, binary_inputs={"x"}, binary_output=True)
    nested = infer(platform, "mlp", {"x": x}, nested=True)
    assert binary.status_code == 200 and nested.status_code == 200
    assert np.array_equal(v2.parse(binary)[1]["output"], arrays["output"])
    assert np.array_equal(v2.parse(nested)[1]["output"], arrays["output"])
    # V1 JSON on the API's own endpoint runs the same model: the same numbers.
    v1 = platform.predict("/mlp", {"instances": x.tolist()})
    assert np.array_equal(np.array(v1.json()["predictions"], dtype=np.float32), arrays["output"])
    # Lossless conversions: INT16 and FP16 data into the float32 input.
    ints = np.arange(64, dtype=np.int16).reshape(1, 64) - 32
    res = infer(platform, "mlp", {"x": ints})
    assert res.status_code == 200, res.text
    want_ints = infer(platform, "mlp", {"x": ints.astype(np.float32)})
    assert np.array_equal(v2.parse(res)[1]["output"], v2.parse(want_ints)[1]["output"])
    assert infer(platform, "mlp", {"x": x[:1].astype(np.float16)}).status_code == 200


def test_model_metadata_and_readiness(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model))
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("mlp")
    platform.wait_live("echo")
    url = platform.gateway_url + "/v2/models"
    meta = wait_for(lambda: (r := platform.http.get(f"{url}/mlp", timeout=10)).status_code == 200
                    and r.json(), message="metadata")
    assert meta == {"name": "mlp", "versions": ["1"], "platform": "pytorch_torchscript",
                    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 64]}],
                    "outputs": [{"name": "output", "datatype": "FP32", "shape": []}]}
    assert platform.http.get(f"{url}/mlp/versions/1", timeout=10).json() == meta
    echo = platform.http.get(f"{url}/echo", timeout=10).json()
    assert echo["platform"] == "python" and echo["inputs"] == []
    ready = platform.http.get(f"{url}/mlp/ready", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"name": "mlp", "ready": True}
    assert platform.http.get(f"{url}/mlp/versions/1/ready", timeout=10).status_code == 200
    assert_clean_error(platform.http.get(f"{url}/mlp/versions/7/ready", timeout=10), 404,
                       'model "mlp" has no version "7"; versions: 1')
    assert_clean_error(platform.http.get(f"{url}/mlp/versions/x", timeout=10), 404,
                       "has no version")
    server = platform.http.get(platform.gateway_url + "/v2/health/ready", timeout=10)
    assert server.status_code == 200
    assert "model_file" not in json.dumps(meta)


def test_request_errors(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model))
    platform.wait_live("mlp")
    x = np.zeros((1, 64), dtype=np.float32)
    assert infer_when_routed(platform, "mlp", {"x": x}).status_code == 200
    url = platform.gateway_url + "/v2/models/mlp/infer"
    post = lambda body, **kw: platform.http.post(url, data=body, timeout=10, **kw)  # noqa: E731

    assert_clean_error(infer(platform, "mlp", {"x": np.zeros((1, 63), np.float32)}), 400,
                       'input "x": the model takes shape [-1, 64] (-1: any size), got [1, 63]')
    assert_clean_error(infer(platform, "mlp", {"x": np.zeros(64, np.float32)}), 400,
                       "got [64]")
    assert_clean_error(infer(platform, "mlp", {"x": x.astype(np.float64)}), 400,
                       'input "x": the model takes FP32, got FP64')
    assert_clean_error(infer(platform, "mlp", {"x": x.astype(np.int64)}), 400,
                       "the model takes FP32, got INT64")
    assert_clean_error(infer(platform, "mlp", {"y": x}), 400, 'the model has no input "y"')
    assert_clean_error(infer(platform, "mlp", {"x": x, "y": x}), 400, 'no input "y"')
    # A value that is not of the datatype the request names.
    bad = {"inputs": [{"name": "x", "shape": [1, 64], "datatype": "FP32",
                       "data": ["a"] + [0] * 63}]}
    assert_clean_error(post(json.dumps(bad)), 400, 'input "x": data[0] must be FP32, got "a"')
    bad["inputs"][0]["data"] = [0] * 63
    assert_clean_error(post(json.dumps(bad)), 400, "data has 63 elements, but shape [1, 64]")
    bad["inputs"][0]["datatype"] = "FLOAT"
    assert_clean_error(post(json.dumps(bad)), 400, "datatype must be one of BOOL")
    assert_clean_error(post("{oops"), 400, "not valid JSON")
    assert_clean_error(post("[" * 100 + "]" * 100), 400, "nests deeper than 64")
    # Binary bodies: truncated, and a header length larger than the body.
    body, headers = v2.request({"x": x}, binary_inputs={"x"})
    assert_clean_error(post(body[:-10], headers=headers), 400,
                       "only 246 bytes of binary data are left after the JSON (a truncated body?)")
    longer = dict(headers, **{v2.HEADER: str(len(body) + 1)})
    assert_clean_error(post(body, headers=longer), 400,
                       f"Inference-Header-Content-Length is {len(body) + 1}, but the body has only")
    assert_clean_error(post(body, headers=dict(headers, **{v2.HEADER: "abc"})), 400,
                       "Inference-Header-Content-Length must be a byte count")
    assert_clean_error(post(body + b"extra", headers=headers), 400,
                       "binary_data_size add up to 256")
    assert_clean_error(platform.http.get(url, timeout=10), 405, "use POST")
    # The API's statistics count v2 inferences, the 15 refused ones above included.
    assert platform.describe("mlp")["requests_4xx"] >= 15


def test_python_predictor_errors(platform):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.deploy(write_api(platform.work_dir / "old", "old",
                              "class PythonPredictor:\n    def predict(self, payload):\n"
                              "        return payload\n"))
    platform.wait_live("echo")
    platform.wait_live("old")
    x = {"x": np.zeros(2, np.float32)}
    assert infer_when_routed(platform, "echo", x).status_code == 200
    assert_clean_error(infer(platform, "echo", x, parameters={"mode": "raise"}), 500,
                       "predict_v2() raised RuntimeError: predict_v2 failed on purpose")
    assert_clean_error(infer(platform, "echo", x, parameters={"mode": "reject"}), 422,
                       "this input is refused")
    assert_clean_error(infer(platform, "echo", x, parameters={"mode": "list"}), 500,
                       "must return a dict of output name -> array, got a list")
    assert_clean_error(infer(platform, "echo", x, parameters={"mode": "complex"}), 500,
                       "dtype complex64, which the Open Inference Protocol cannot carry")
    assert_clean_error(infer_when_routed(platform, "old", x), 400, "has no predict_v2() method")
    assert "predict_v2 failed on purpose" in platform.axon_ok("logs", "echo")  # the traceback


def test_batches_mix_v1_and_v2_requests(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model, extra=(
        "  threads_per_process: 2\n"
        "  server_side_batching: {max_batch_size: 8, batch_interval: 100ms}\n")))
    platform.wait_live("mlp")
    reference = torch.jit.load(str(model / "1" / "model.pt"))
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((1 + i % 3, 64)).astype(np.float32) for i in range(36)]
    infer_when_routed(platform, "mlp", {"x": xs[0]})

    def send(i):
        x = xs[i]
        if i % 3 == 0:
            res = platform.predict("/mlp", {"instances": x.tolist()})
            return x, res, np.array(res.json()["predictions"], dtype=np.float32)
        res = infer(platform, "mlp", {"x": x}, binary_inputs={"x"} if i % 3 == 1 else (),
                    binary_output=i % 3 == 1)
        assert res.status_code == 200, res.text
        return x, res, v2.parse(res)[1]["output"]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(send, range(len(xs))))
    sizes = []
    for x, res, got in results:
        assert res.status_code == 200, res.text
        want = reference(torch.from_numpy(x)).detach().numpy()
        assert got.shape == want.shape and np.max(np.abs(got - want)) < 1e-5
        sizes.append(int(res.headers["X-Axon-Batch-Size"]))
    assert max(sizes) > 1, sizes


BATCHED_ECHO = """\
    import numpy as np

    class PythonPredictor:
        def predict_v2(self, inputs, parameters):
            assert isinstance(inputs, list) and isinstance(parameters, list)
            return [{"y": d["x"] * 2, "batch": np.array([len(inputs)])} for d in inputs]
    """


def test_python_predict_v2_gets_lists_when_batching(platform):
    platform.deploy(write_api(platform.work_dir / "b", "batched", BATCHED_ECHO,
                              "  server_side_batching: {max_batch_size: 4, batch_interval: 100ms}\n"))
    platform.wait_live("batched")
    infer_when_routed(platform, "batched", {"x": np.zeros(1, np.int32)})
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: infer(platform, "batched",
                                                {"x": np.array([i], np.int32)}), range(16)))
    batches = []
    for i, res in enumerate(results):
        assert res.status_code == 200, res.text
        arrays = v2.parse(res)[1]
        assert arrays["y"].tolist() == [2 * i]
        batches.append(int(arrays["batch"][0]))
    assert max(batches) > 1 and max(batches) <= 4, batches


VERSIONED = """\
    import os
    import time
    from pathlib import Path

    import numpy as np

    class PythonPredictor:
        def __init__(self, config):
            # Version 2 waits (bounded) for the test's go-ahead, so that both versions serve.
            flag = Path(config["flag"])
            deadline = time.monotonic() + 60
            while config["wait"] and not flag.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

        def predict_v2(self, inputs):
            return {"version": np.array([os.environ["AXON_API_VERSION"]], dtype=object)}
    """


def test_version_paths_follow_the_replicas_of_each_version(platform):
    flag = platform.work_dir / "go"
    directory = platform.work_dir / "v"

    def deploy(wait):
        platform.deploy(write_api(directory, "ver", VERSIONED,
                                  f"  config: {{flag: {flag}, wait: {str(wait).lower()}}}\n"))

    deploy(False)
    platform.wait_live("ver")
    x = {"x": np.zeros(1, np.float32)}
    base = "/v2/models/ver"
    res = infer_when_routed(platform, "ver", x, path=f"{base}/versions/1/infer")
    assert res.status_code == 200 and v2.parse(res)[0]["model_version"] == "1"
    deploy(True)  # version 2 starts and waits for the flag; version 1 keeps serving
    # Once the gateway's routes name version 2, it is known but not ready.
    ready2 = wait_for(lambda: (r := platform.http.get(
        platform.gateway_url + f"{base}/versions/2/ready", timeout=10)).status_code != 404 and r,
        message="the gateway to know version 2")
    assert ready2.status_code == 400 and ready2.json() == {"name": "ver", "ready": False}
    res = infer(platform, "ver", x, path=f"{base}/versions/2/infer")
    assert_clean_error(res, 503, "has no ready replica of version 2")
    res = infer(platform, "ver", x, path=f"{base}/versions/1/infer")
    assert res.status_code == 200 and v2.parse(res)[1]["version"].tolist() == [b"1"]
    res = infer(platform, "ver", x)  # no version: the replicas there are, version 1
    assert v2.parse(res)[0]["model_version"] == "1"
    meta = platform.http.get(platform.gateway_url + base, timeout=10).json()
    assert meta["versions"] == ["1", "2"]
    assert_clean_error(infer(platform, "ver", x, path=f"{base}/versions/3/infer"), 404,
                       'model "ver" has no version "3"; versions: 1, 2')

    flag.write_text("go")
    res = wait_for(lambda: (r := infer(platform, "ver", x, path=f"{base}/versions/2/infer"))
                   .status_code == 200 and r, message="version 2 to serve")
    assert v2.parse(res)[0]["model_version"] == "2"
    assert v2.parse(res)[1]["version"].tolist() == [b"2"]
    # Once the rollout is over, version 1 is gone.
    wait_for(lambda: infer(platform, "ver", x, path=f"{base}/versions/1/infer").status_code == 404,
             timeout=30, message="version 1 to leave")
    assert platform.http.get(platform.gateway_url + base, timeout=10).json()["versions"] == ["2"]


def test_scaled_to_zero_models_wake_on_inference(platform):
    platform.deploy(write_api(platform.work_dir / "z", "zero", ECHO,
                              "autoscaling:\n  min_replicas: 0\n"))
    wait_for(lambda: platform.http.get(platform.gateway_url + "/v2/models/zero/ready",
                                       timeout=10).status_code == 400,
             message="model zero in the gateway's routes")
    assert platform.describe("zero")["requested"] == 0
    server = platform.http.get(platform.gateway_url + "/v2/health/ready", timeout=10)
    assert server.status_code == 200  # at zero on purpose
    res = infer(platform, "zero", {"x": np.ones(1, np.float32)}, id="wake")
    assert res.status_code == 200, res.text
    assert v2.parse(res)[0]["id"] == "wake"


@pytest.mark.parametrize("name", ["v2"])
def test_the_v2_prefix_is_reserved(platform, name):
    spec = write_api(platform.work_dir / "r", name, ECHO)
    res = platform.axon("deploy", spec)
    assert res.returncode != 0
    assert "reserved for the Open Inference Protocol" in res.stderr + res.stdout
