"""server_side_batching with real replicas: concurrent requests share model calls, each gets
its own answer, max_batch_size holds, a lone request waits about batch_interval; adaptive
batching (no batch_interval) runs a lone request by itself and gathers what queues while the
model runs; Python predictors get lists and must return one result per payload. Also a Python
predictor that runs a native model through model_client."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from conftest import write_api

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
INTERVAL_MS = 100


def build_mlp(out):
    subprocess.run([sys.executable, str(EXAMPLES / "mlp-torchscript" / "build_model.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=300)
    return out


def concurrently(fn, items, workers=16):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


def test_native_batches_answer_each_request(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    spec = platform.work_dir / "axon.yaml"
    spec.write_text(f"""\
name: mlp
kind: RealtimeAPI
predictor:
  type: torchscript
  model_path: {model}
  inputs: [{{name: x, dtype: float32, shape: [64]}}]
  threads_per_process: 2
  server_side_batching: {{max_batch_size: 8, batch_interval: {INTERVAL_MS}ms}}
""")
    platform.deploy(spec)
    platform.wait_live("mlp")
    platform.predict_when_routed("/mlp", {"instances": [[0.0] * 64]})
    reference = torch.jit.load(str(model / "1" / "model.pt"))
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((1 + i % 2, 64)).astype(np.float32) for i in range(40)]

    def send(x):
        return platform.predict("/mlp", {"instances": x.tolist()})

    responses = concurrently(send, inputs)
    sizes = []
    for x, res in zip(inputs, responses):
        assert res.status_code == 200, res.text
        want = reference(torch.from_numpy(x)).detach().numpy()
        got = np.array(res.json()["predictions"])
        assert got.shape == want.shape
        assert np.max(np.abs(got - want)) < 1e-5  # its own answer, not a neighbour's
        sizes.append(int(res.headers["X-Axon-Batch-Size"]))
    assert max(sizes) <= 8
    assert max(sizes) > 1, sizes  # 16 senders against a 100 ms window do share batches

    start = time.monotonic()
    res = platform.predict("/mlp", {"instances": [[0.5] * 64]})
    waited = time.monotonic() - start
    assert res.status_code == 200 and res.headers["X-Axon-Batch-Size"] == "1"
    assert waited < 10 * INTERVAL_MS / 1000, waited


BATCH_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            self.short = config.get("short", False)

        def predict(self, payload):
            assert isinstance(payload, list)
            results = [{"double": p["x"] * 2, "batch": len(payload)} for p in payload]
            return results[:-1] if self.short and len(results) > 1 else results
    """


def test_python_predictor_gets_lists(platform):
    spec = write_api(platform.work_dir / "b", "batched", BATCH_PREDICTOR,
                     "  threads_per_process: 2\n"
                     f"  server_side_batching: {{max_batch_size: 4, batch_interval: {INTERVAL_MS}ms}}\n")
    platform.deploy(spec)
    platform.wait_live("batched")
    platform.predict_when_routed("/batched", {"x": 0})
    responses = concurrently(lambda i: platform.predict("/batched", {"x": i}), range(24), 12)
    for i, res in enumerate(responses):
        assert res.status_code == 200, res.text
        assert res.json()["double"] == 2 * i
        assert 1 <= res.json()["batch"] <= 4
    assert max(r.json()["batch"] for r in responses) > 1
    bad = platform.predict("/batched", "{oops")
    assert bad.status_code == 400 and "malformed JSON" in bad.json()["error"]


SLOW_BATCH_PREDICTOR = """\
    import time

    class PythonPredictor:
        def predict(self, payload):
            time.sleep(0.3)  # while this batch runs, the next requests queue
            return [{"x": p["x"], "batch": len(payload)} for p in payload]
    """


def test_adaptive_batching_gathers_what_queues_while_the_model_runs(platform):
    spec = write_api(platform.work_dir / "a", "adaptive", SLOW_BATCH_PREDICTOR,
                     "  threads_per_process: 1\n  server_side_batching: {max_batch_size: 4}\n")
    platform.deploy(spec)
    platform.wait_live("adaptive")
    # A lone request on an idle replica is a batch of its own.
    first = platform.predict_when_routed("/adaptive", {"x": -1})
    assert first.status_code == 200 and first.json()["batch"] == 1, first.text
    # Ten at once: the first to arrive runs alone or with a few; the rest queue behind it and
    # leave in batches of what queued, never more than max_batch_size.
    responses = concurrently(lambda i: platform.predict("/adaptive", {"x": i}, timeout=30),
                             range(10), 10)
    batches = [r.json()["batch"] for r in responses]
    for i, res in enumerate(responses):
        assert res.status_code == 200, res.text
        assert res.json()["x"] == i
        assert res.headers["X-Axon-Batch-Size"] == str(res.json()["batch"])
    assert max(batches) <= 4, batches
    assert max(batches) > 1, batches  # ten senders and one 0.3 s worker do share batches
    # `axon describe` counts the same batches: each of size k gave k answers saying k.
    shown = platform.describe("adaptive")["batching"]
    assert shown["requests"] == 11, shown
    assert shown["batches"] == 1 + round(sum(1 / b for b in batches)), (shown, batches)
    assert shown["p99_batch_size"] <= 4


def test_python_predictor_returning_the_wrong_length_is_a_500(platform):
    spec = write_api(platform.work_dir / "s", "short", BATCH_PREDICTOR,
                     "  config: {short: true}\n  threads_per_process: 1\n"
                     f"  server_side_batching: {{max_batch_size: 4, batch_interval: {INTERVAL_MS}ms}}\n")
    platform.deploy(spec)
    platform.wait_live("short")
    platform.predict_when_routed("/short", {"x": 0})
    responses = concurrently(lambda i: platform.predict("/short", {"x": i}, timeout=10),
                             range(8), 8)
    failed = [r for r in responses if r.status_code == 500]
    assert failed, [r.status_code for r in responses]
    assert "one result per payload" in failed[0].json()["error"]
    assert all(r.status_code in (200, 500) for r in responses)


CLIENT_PREDICTOR = """\
    import numpy as np

    class PythonPredictor:
        def __init__(self, config, model_client):
            self.client = model_client

        def predict(self, payload):
            x = np.asarray(payload["x"], dtype=np.float64)  # cast to the model's float32
            out = self.client.predict(x, model_name=payload.get("model"))
            return {"out": out.tolist(), "dtype": str(out.dtype), "models": self.client.models}
    """


def test_python_predictor_runs_native_models(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    spec = write_api(platform.work_dir / "c", "client", CLIENT_PREDICTOR,
                     f"  models:\n    - {{name: mlp, type: torchscript, model_path: {model},"
                     " inputs: [{name: x, dtype: float32, shape: [64]}]}\n")
    platform.deploy(spec)
    platform.wait_live("client")
    x = np.random.default_rng(2).standard_normal((3, 64)).astype(np.float32)
    res = platform.predict_when_routed("/client", {"x": x.tolist()})
    assert res.status_code == 200, res.text
    want = torch.jit.load(str(model / "1" / "model.pt"))(torch.from_numpy(x)).detach().numpy()
    assert np.max(np.abs(np.array(res.json()["out"]) - want)) < 1e-5
    assert res.json()["dtype"] == "float32" and res.json()["models"] == ["mlp"]

    res = platform.predict("/client", {"x": x[0].tolist()})  # no batch dimension
    assert res.status_code == 500 and "add the batch dimension" in res.json()["error"], res.text
    res = platform.predict("/client", {"x": x.tolist(), "model": "nope"})
    assert res.status_code == 500 and 'no model named "nope"' in res.json()["error"], res.text
    meta = platform.predict("/client/metadata", method="GET").json()
    assert meta["models"][0]["name"] == "mlp"


def test_models_without_a_model_client_parameter_fail_to_load(platform, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    spec = write_api(platform.work_dir / "n", "noclient", BATCH_PREDICTOR,
                     f"  models: [{{name: mlp, type: torchscript, model_path: {model}}}]\n")
    platform.deploy(spec)
    api = platform.wait_status("noclient", "error")
    assert "no model_client parameter" in str(api), api
