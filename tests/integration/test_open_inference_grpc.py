"""The Open Inference Protocol over gRPC, with Debian's grpcio and stubs generated at test time
from Axon's own .proto (protoc with grpc_python_plugin): every method, typed contents and raw
contents for every datatype, errors as call statuses, and the same numbers over gRPC as over
HTTP JSON and binary."""

import importlib
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
import torch

import v2_client as v2
from conftest import wait_for, write_api
from test_open_inference import ECHO, TENSORS, build_mlp, infer, infer_when_routed, mlp_spec

PROTO = Path(__file__).resolve().parents[2] / "src" / "protocol" / "open_inference.proto"

# Which InferTensorContents field carries each datatype.
CONTENTS = {"BOOL": "bool_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
            "UINT32": "uint_contents", "UINT64": "uint64_contents", "INT8": "int_contents",
            "INT16": "int_contents", "INT32": "int_contents", "INT64": "int64_contents",
            "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents"}


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """The generated modules (open_inference_pb2, open_inference_pb2_grpc)."""
    out = tmp_path_factory.mktemp("stubs")
    subprocess.run(["protoc", f"-I{PROTO.parent}", f"--python_out={out}",
                    f"--grpc_python_out={out}", "--plugin=protoc-gen-grpc_python="
                    "/usr/bin/grpc_python_plugin", str(PROTO)], check=True, timeout=60)
    sys.path.insert(0, str(out))
    try:
        return (importlib.import_module("open_inference_pb2"),
                importlib.import_module("open_inference_pb2_grpc"))
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def stub(platform, pb):
    channel = grpc.insecure_channel(f"127.0.0.1:{platform.grpc_port}")
    yield pb[1].GRPCInferenceServiceStub(channel)
    channel.close()


def tensor_request(pb, model, inputs, raw=False, outputs=None):
    request = pb[0].ModelInferRequest(model_name=model)
    for name, array in inputs.items():
        t = request.inputs.add(name=name, datatype=v2.datatype(array), shape=list(array.shape))
        if raw:
            request.raw_input_contents.append(v2.to_bytes(array))
        elif t.datatype == "FP16":
            pass  # no typed field: a client can only send it raw
        elif array.dtype == object:
            t.contents.bytes_contents.extend(e.encode() if isinstance(e, str) else e
                                             for e in array.reshape(-1))
        else:
            getattr(t.contents, CONTENTS[t.datatype]).extend(array.reshape(-1).tolist())
    for name in outputs or []:
        request.outputs.add(name=name)
    return request


def arrays_of(response):
    return {o.name: v2.from_bytes(raw, o.datatype, list(o.shape))
            for o, raw in zip(response.outputs, response.raw_output_contents)}


def call(fn, request, timeout=10):
    return fn(request, timeout=timeout)


def test_server_methods(platform, stub, pb):
    messages = pb[0]
    assert wait_for(lambda: call(stub.ServerLive, messages.ServerLiveRequest()).live,
                    message="gRPC to answer")
    assert call(stub.ServerReady, messages.ServerReadyRequest()).ready
    meta = call(stub.ServerMetadata, messages.ServerMetadataRequest())
    assert meta.name == "axon" and list(meta.extensions) == ["binary_tensor_data"]
    with pytest.raises(grpc.RpcError) as e:
        call(stub.ModelReady, messages.ModelReadyRequest(name="nope"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert 'no model named "nope"' in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        call(stub.ModelMetadata, messages.ModelMetadataRequest(name="../x"))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_every_datatype_in_typed_and_raw_contents(platform, stub, pb):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("echo")
    infer_when_routed(platform, "echo", {"x": np.zeros(1, np.float32)})
    typed = {k: a for k, a in TENSORS.items() if k != "float16"}  # FP16 has no typed field
    for raw, inputs in ((False, typed), (True, TENSORS)):
        response = call(stub.ModelInfer, tensor_request(pb, "echo", inputs, raw=raw))
        assert response.model_name == "echo" and response.model_version == "1"
        got = arrays_of(response)
        for name, array in inputs.items():
            want = (np.array([[e.encode() for e in array[0]]], dtype=object)
                    if name == "bytes" else array)
            assert np.array_equal(got[name], want), (raw, name)
            assert got[name].dtype == (object if name == "bytes" else array.dtype)
    with pytest.raises(grpc.RpcError) as e:
        call(stub.ModelInfer, tensor_request(pb, "echo", {"h": TENSORS["float16"]}))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "raw_input_contents" in e.value.details()


def test_same_numbers_over_grpc_json_and_binary(platform, stub, pb, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model))
    platform.wait_live("mlp")
    x = np.random.default_rng(5).standard_normal((3, 64)).astype(np.float32)
    json_res = infer_when_routed(platform, "mlp", {"x": x})
    binary_res = infer(platform, "mlp", {"x": x}, binary_inputs={"x"}, binary_output=True)
    over_json = v2.parse(json_res)[1]["output"]
    over_binary = v2.parse(binary_res)[1]["output"]
    typed = arrays_of(call(stub.ModelInfer, tensor_request(pb, "mlp", {"x": x})))["output"]
    raw_response = call(stub.ModelInfer, tensor_request(pb, "mlp", {"x": x}, raw=True,
                                                        outputs=["output"]))
    raw = arrays_of(raw_response)["output"]
    assert raw_response.outputs[0].datatype == "FP32"
    assert list(raw_response.outputs[0].shape) == [3, 10]
    assert np.array_equal(over_json, over_binary)
    assert np.array_equal(over_json, typed)
    assert np.array_equal(over_json, raw)
    want = torch.jit.load(str(model / "1" / "model.pt"))(torch.from_numpy(x)).detach().numpy()
    assert np.max(np.abs(raw - want)) < 1e-5

    messages = pb[0]
    meta = call(stub.ModelMetadata, messages.ModelMetadataRequest(name="mlp"))
    assert meta.platform == "pytorch_torchscript" and list(meta.versions) == ["1"]
    assert meta.inputs[0].name == "x" and list(meta.inputs[0].shape) == [-1, 64]
    assert meta.inputs[0].datatype == "FP32"
    assert call(stub.ModelReady, messages.ModelReadyRequest(name="mlp")).ready
    assert call(stub.ModelReady, messages.ModelReadyRequest(name="mlp", version="1")).ready
    assert call(stub.ServerReady, messages.ServerReadyRequest()).ready


def test_errors_are_call_statuses(platform, stub, pb, tmp_path):
    model = build_mlp(tmp_path / "mlp")
    platform.deploy(mlp_spec(platform.work_dir, model))
    platform.wait_live("mlp")
    infer_when_routed(platform, "mlp", {"x": np.zeros((1, 64), np.float32)})
    cases = [
        (tensor_request(pb, "mlp", {"x": np.zeros((1, 63), np.float32)}),
         grpc.StatusCode.INVALID_ARGUMENT, "the model takes shape [-1, 64]"),
        (tensor_request(pb, "mlp", {"x": np.zeros((1, 64), np.float64)}),
         grpc.StatusCode.INVALID_ARGUMENT, "the model takes FP32, got FP64"),
        (tensor_request(pb, "nope", {"x": np.zeros((1, 64), np.float32)}),
         grpc.StatusCode.NOT_FOUND, 'no model named "nope"'),
        (tensor_request(pb, "mlp", {"x": np.zeros((1, 64), np.float32)}, outputs=["z"]),
         grpc.StatusCode.INVALID_ARGUMENT, 'no output "z"'),
    ]
    bad_version = tensor_request(pb, "mlp", {"x": np.zeros((1, 64), np.float32)})
    bad_version.model_version = "9"
    cases.append((bad_version, grpc.StatusCode.NOT_FOUND, 'has no version "9"'))
    short = tensor_request(pb, "mlp", {"x": np.zeros((1, 64), np.float32)}, raw=True)
    short.raw_input_contents[0] = short.raw_input_contents[0][:100]
    cases.append((short, grpc.StatusCode.INVALID_ARGUMENT, "needs 256 bytes"))
    for request, code, phrase in cases:
        with pytest.raises(grpc.RpcError) as e:
            call(stub.ModelInfer, request)
        assert e.value.code() == code, (e.value.code(), e.value.details())
        assert phrase in e.value.details(), e.value.details()
        assert "Traceback" not in e.value.details()


def test_request_ids_travel_in_metadata(platform, stub, pb):
    platform.deploy(write_api(platform.work_dir / "echo", "echo", ECHO))
    platform.wait_live("echo")
    infer_when_routed(platform, "echo", {"x": np.zeros(1, np.float32)})
    request = tensor_request(pb, "echo", {"x": np.ones(2, np.float32)})
    request.id = "abc"
    response, call_info = stub.ModelInfer.with_call(request, timeout=10,
                                                    metadata=[("x-request-id", "rid-42")])
    assert response.id == "abc"
    assert ("x-request-id", "rid-42") in call_info.initial_metadata()
