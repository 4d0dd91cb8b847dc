"""A small Open Inference Protocol (KServe v2) client for the tests, written from the protocol:
JSON requests (flat or nested data), binary tensors (Triton's binary tensor data extension) and
the parsing of either kind of answer into numpy arrays."""

import json
import struct

import numpy as np

HEADER = "Inference-Header-Content-Length"

DATATYPES = {  # numpy dtype name -> v2 datatype
    "bool": "BOOL", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32",
    "uint64": "UINT64", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "float16": "FP16", "float32": "FP32", "float64": "FP64", "object": "BYTES",
}
NUMPY = {v: k for k, v in DATATYPES.items()}


def datatype(array):
    return DATATYPES[array.dtype.name]


def to_bytes(array):
    """The binary form of a tensor: little-endian elements, BYTES each with a 4-byte length."""
    if array.dtype == object:
        parts = []
        for element in array.reshape(-1):
            element = element.encode() if isinstance(element, str) else bytes(element)
            parts.append(struct.pack("<I", len(element)) + element)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def from_bytes(data, dt, shape):
    if dt == "BYTES":
        elements, at = [], 0
        while at < len(data):
            (n,) = struct.unpack_from("<I", data, at)
            elements.append(data[at + 4:at + 4 + n])
            at += 4 + n
        array = np.empty(len(elements), dtype=object)
        array[:] = elements
        return array.reshape(shape)
    return np.frombuffer(data, dtype=np.dtype(NUMPY[dt]).newbyteorder("<")).reshape(shape)


def json_data(array, nested=False):
    if array.dtype == object:
        flat = [e.decode() if isinstance(e, bytes) else e for e in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape).tolist() if nested else flat
    return array.tolist() if nested else array.reshape(-1).tolist()


def request(inputs, binary_inputs=(), outputs=None, binary_output=None, nested=False,
            parameters=None, id=None):
    """(body bytes, headers) of an inference request.

    inputs: dict name -> numpy array; the names in `binary_inputs` go as binary data.
    outputs: list of names, or of (name, binary) pairs; binary_output: binary_data_output.
    """
    header = {"inputs": []}
    if id is not None:
        header["id"] = id
    params = dict(parameters or {})
    if binary_output is not None:
        params["binary_data_output"] = binary_output
    if params:
        header["parameters"] = params
    tail = b""
    for name, array in inputs.items():
        entry = {"name": name, "shape": list(array.shape), "datatype": datatype(array)}
        if name in binary_inputs:
            data = to_bytes(array)
            entry["parameters"] = {"binary_data_size": len(data)}
            tail += data
        else:
            entry["data"] = json_data(array, nested)
        header["inputs"].append(entry)
    if outputs is not None:
        header["outputs"] = []
        for o in outputs:
            name, binary = (o, None) if isinstance(o, str) else o
            entry = {"name": name}
            if binary is not None:
                entry["parameters"] = {"binary_data": binary}
            header["outputs"].append(entry)
    text = json.dumps(header).encode()
    if not tail and not binary_inputs:
        return text, {"Content-Type": "application/json"}
    return text + tail, {"Content-Type": "application/octet-stream", HEADER: str(len(text))}


def parse(res):
    """(response JSON, dict name -> numpy array, dict name -> whether it came as binary)."""
    body = res.content
    length = int(res.headers[HEADER]) if HEADER in res.headers else len(body)
    doc = json.loads(body[:length])
    tail = body[length:]
    arrays, binary = {}, {}
    for o in doc["outputs"]:
        size = o.get("parameters", {}).get("binary_data_size")
        if size is not None:
            arrays[o["name"]] = from_bytes(tail[:size], o["datatype"], o["shape"])
            tail = tail[size:]
            binary[o["name"]] = True
        else:
            data = o["data"]
            if o["datatype"] == "BYTES":
                array = np.empty(len(data), dtype=object)
                array[:] = [d.encode() for d in data]
                arrays[o["name"]] = array.reshape(o["shape"])
            else:
                arrays[o["name"]] = np.array(data, dtype=NUMPY[o["datatype"]]).reshape(o["shape"])
            binary[o["name"]] = False
    assert not tail, "bytes left over after the binary outputs"
    return doc, arrays, binary
