# Axon's Python-side glue, embedded into axon-replica at build time. It loads the user's
# PythonPredictor and turns one HTTP request into one call, so the C++ side only moves bytes.
import codecs
import collections.abc
import functools
import importlib.util
import inspect
import io
import json
import os
import struct
import sys
import threading
import time
import traceback

_PREDICT_ARGS = ("payload", "query_params", "headers")
_PREDICT_V2_ARGS = ("inputs", "parameters", "headers")

# Embedded, sys.executable would name whatever `python3` is first on PATH; subprocesses a
# predictor starts should get the interpreter whose packages it sees. In the virtual
# environment of predictor.dependencies (sys.prefix is the environment's folder) it already
# names the environment's python3.
_SYSTEM_PYTHON = os.path.join(sys.base_prefix, "bin", "python3")
if sys.prefix == sys.base_prefix and os.path.exists(_SYSTEM_PYTHON):
    sys.executable = _SYSTEM_PYTHON
_GET_ARGS = ("query_params", "headers")


# --- Log lines ----------------------------------------------------------------------------
# What the predictor prints becomes JSON log lines with the fields of the replica's own lines
# (src/common/log_line.h, the one definition of the format), in the same order, plus "stream".

_handling = threading.local()  # .request_id: the request(s) this thread is working on


def _int_env(name):
    try:
        return int(os.environ.get(name, "0"))
    except ValueError:
        return 0


class _LogStream(io.TextIOBase):
    """sys.stdout or sys.stderr of the predictor: every line printed becomes one JSON line,
    written with a single os.write() to the replica's own stdout or stderr (so lines of several
    threads never mix). A line is written when its newline arrives, or at flush()."""

    def __init__(self, fd, stream):
        super().__init__()
        self._fd = fd
        self._stream = stream
        self._partial = threading.local()
        self._buffer = _LogBuffer(self)
        self._fields = {"source": "replica", "api": os.environ.get("AXON_API", ""),
                        "version": _int_env("AXON_API_VERSION"),
                        "replica": os.environ.get("AXON_REPLICA_ID", "")}

    def writable(self):
        return True

    def isatty(self):
        return False

    @property
    def buffer(self):
        """sys.stdout.buffer: bytes written to it go through the same lines."""
        return self._buffer

    def fileno(self):
        return self._fd

    @property
    def encoding(self):
        return "utf-8"

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        pending = getattr(self._partial, "text", "") + text
        *lines, self._partial.text = pending.split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self):
        rest = getattr(self._partial, "text", "")
        if rest:
            self._partial.text = ""
            self._emit(rest)

    def _emit(self, message):
        now_ms = int(time.time() * 1000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms // 1000))
        record = {"time": f"{stamp}.{now_ms % 1000:03d}Z", "level": "info"}
        record.update((k, v) for k, v in self._fields.items() if v)
        request_id = getattr(_handling, "request_id", "")
        if request_id:
            record["request_id"] = request_id
        record["message"] = message
        record["stream"] = self._stream
        data = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "replace")
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except InterruptedError:
                continue
            except OSError:
                return  # nowhere to log to: a print must never fail the request


class _LogBuffer(io.RawIOBase):
    """The binary face of a _LogStream (what `sys.stdout.buffer.write(b"...")` reaches): bytes
    are decoded as UTF-8 (a character split across writes is kept until its end arrives; bytes
    that are not UTF-8 become U+FFFD) and written as text."""

    def __init__(self, text):
        super().__init__()
        self._text = text
        self._decoder = threading.local()

    def writable(self):
        return True

    def fileno(self):
        return self._text.fileno()

    def write(self, data):
        decoder = getattr(self._decoder, "d", None)
        if decoder is None:
            decoder = self._decoder.d = codecs.getincrementaldecoder("utf-8")("replace")
        self._text.write(decoder.decode(bytes(data)))
        return len(data)

    def flush(self):
        self._text.flush()


sys.stdout = _LogStream(1, "stdout")
sys.stderr = _LogStream(2, "stderr")


def _working_on(request_ids):
    """Names the request(s) of this thread's prints; request ids are never empty strings."""
    _handling.request_id = ",".join(r for r in request_ids if r and r != "-")


def _forgets_requests(handler):
    """After `handler` returns, this thread's prints name no request any more."""
    @functools.wraps(handler)
    def wrapper(*args):
        try:
            return handler(*args)
        finally:
            _handling.request_id = ""
    return wrapper


class PredictorError(Exception):
    """A user-facing reason why the predictor cannot be loaded."""


def _argument_names(fn, allowed, what):
    names = []
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in allowed:
            names.append(name)
        elif p.default is p.empty:
            raise PredictorError(
                f"{what} has a parameter '{name}' that Axon cannot fill; "
                f"it may name: {', '.join(allowed)}")
    return tuple(names)


def _describe(exc):
    return f"{type(exc).__name__}: {exc}"


class Loaded:
    def __init__(self, path, config_json, model_client=None):
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            spec = importlib.util.spec_from_file_location("predictor", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules["predictor"] = module
            spec.loader.exec_module(module)
        except Exception as e:
            traceback.print_exc()
            raise PredictorError(f"importing {path} failed: {_describe(e)}") from None
        job = _job_spec()
        if job is not None:  # a worker of a BatchAPI or TaskAPI job
            self.instance = _job_worker(module, path, json.loads(config_json), job)
            self.predict_args = ("payload", "headers")
            self.predict_v2_args = self.get_args = None
            return
        cls = getattr(module, "PythonPredictor", None)
        if not inspect.isclass(cls):
            raise PredictorError(f"{path} must define a class named PythonPredictor")
        kwargs = {}
        init_args = _argument_names(cls.__init__, ("self", "config", "model_client"),
                                    "PythonPredictor.__init__")
        if "config" in init_args:
            kwargs["config"] = json.loads(config_json)
        if "model_client" in init_args:
            kwargs["model_client"] = model_client
        elif model_client is not None:
            raise PredictorError(
                "the spec lists predictor.models, but PythonPredictor.__init__ has no "
                "model_client parameter to receive them; add one: "
                "def __init__(self, config, model_client)")
        try:
            self.instance = cls(**kwargs)
        except Exception as e:
            traceback.print_exc()
            raise PredictorError(f"PythonPredictor.__init__ raised {_describe(e)}") from None
        predict = getattr(self.instance, "predict", None)
        predict_v2 = getattr(self.instance, "predict_v2", None)
        if not callable(predict) and not callable(predict_v2):
            raise PredictorError("PythonPredictor must define a predict() method "
                                 "(or predict_v2() for the Open Inference Protocol)")
        self.predict_args = (_argument_names(predict, _PREDICT_ARGS, "PythonPredictor.predict")
                             if callable(predict) else None)
        self.predict_v2_args = (_argument_names(predict_v2, _PREDICT_V2_ARGS,
                                                "PythonPredictor.predict_v2")
                                if callable(predict_v2) else None)
        get = getattr(self.instance, "get", None)
        self.get_args = _argument_names(get, _GET_ARGS, "PythonPredictor.get") if callable(get) else None


# --- Jobs: the workers of BatchAPI and TaskAPI jobs (operator/job_runner.h) ----------------
# The operator writes the job's spec to the file named by AXON_JOB_FILE and sends each batch
# (a JSON list of items; a task's one run) to predict with the batch's id as X-Request-ID.
# After the last batch it sends one request with X-Axon-Job-Event: complete.

_JOB_EVENT_HEADER = "X-Axon-Job-Event"


class _HookError(Exception):
    """A job hook's failure, already logged: answered with its message as it is."""
    status_code = 500


def _job_spec():
    job_file = os.environ.get("AXON_JOB_FILE")
    if not job_file:
        return None
    with open(job_file, encoding="utf-8") as f:
        return json.load(f)


def _construct(cls, what, kwargs):
    try:
        return cls(**kwargs)
    except Exception as e:
        traceback.print_exc()
        raise PredictorError(f"{what} raised {_describe(e)}") from None


def _run_hook(fn, what, kwargs):
    try:
        return fn(**kwargs)
    except Exception as e:
        print(f"{what} raised {_describe(e)}\n{traceback.format_exc()}", file=sys.stderr,
              flush=True)
        raise _HookError(f"{what} raised {_describe(e)}") from None


class _BatchWorker:
    """BatchPredictor(config, job_spec): predict(payload, batch_id) per batch, then
    on_job_complete() once."""

    def __init__(self, cls, config, job):
        init_args = _argument_names(cls.__init__, ("self", "config", "job_spec"),
                                    "BatchPredictor.__init__")
        values = {"config": config, "job_spec": job}
        self._instance = _construct(cls, "BatchPredictor.__init__",
                                    {n: values[n] for n in init_args if n != "self"})
        predict = getattr(self._instance, "predict", None)
        if not callable(predict):
            raise PredictorError("BatchPredictor must define predict(self, payload, batch_id)")
        self._predict_args = _argument_names(predict, ("payload", "batch_id"),
                                             "BatchPredictor.predict")
        complete = getattr(self._instance, "on_job_complete", None)
        self._complete = complete if callable(complete) else None

    def predict(self, payload, headers):
        if headers.get(_JOB_EVENT_HEADER) == "complete":
            if self._complete is not None:
                _run_hook(self._complete, "on_job_complete()", {})
            return None
        values = {"payload": payload, "batch_id": headers.get("X-Request-ID", "")}
        self._instance.predict(**{n: values[n] for n in self._predict_args})
        return None


class _TaskWorker:
    """Task(): one call of task(config) per job."""

    def __init__(self, cls, config):
        self._task = _construct(cls, "Task()", {})
        if not callable(self._task):
            raise PredictorError("class Task must define __call__(self, config)")
        self._args = _argument_names(self._task.__call__, ("config",), "Task.__call__")
        self._config = config

    def predict(self, payload, headers):
        _run_hook(self._task, "Task.__call__",
                  {"config": self._config} if "config" in self._args else {})
        return None


def _job_worker(module, path, config, job):
    batch = job.get("kind") == "BatchAPI"
    name = "BatchPredictor" if batch else "Task"
    cls = getattr(module, name, None)
    if not inspect.isclass(cls):
        raise PredictorError(f"{path} must define a class named {name} "
                             f"(the code of {'a BatchAPI' if batch else 'a TaskAPI'})")
    return _BatchWorker(cls, config, job) if batch else _TaskWorker(cls, config)


class _BadRequest(Exception):
    pass


def _decode(body, content_type):
    kind = (content_type if content_type == "application/json"
            else content_type.split(";")[0].strip().lower())
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError as e:
            raise _BadRequest(f"malformed JSON body: {e}") from None
        except RecursionError:
            raise _BadRequest("malformed JSON body: lists and objects nest too deeply") from None
    if kind.startswith("text/"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _BadRequest(f"text body is not valid UTF-8: {e}") from None
    return body


def _to_json(value):
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, collections.abc.Iterator):
        raise TypeError(f"predict() returned a {type(value).__name__} inside its answer, which is "
                        f"not JSON serializable; to stream, return the iterator itself (without "
                        f"server_side_batching)")
    raise TypeError(f"predict() returned a {type(value).__name__}, which is not JSON serializable")


# json.dumps(value, default=_to_json, allow_nan=False) makes a JSONEncoder for every call; this
# one makes the same bytes. Encoding keeps no state in it, so threads share it.
_ENCODER = json.JSONEncoder(default=_to_json, allow_nan=False)


def _encode(result):
    if result is None:
        return 200, b"", "text/plain"
    if isinstance(result, str):
        return 200, result.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(result, (bytes, bytearray, memoryview)):
        return 200, bytes(result), "application/octet-stream"
    return 200, _ENCODER.encode(result).encode("utf-8"), "application/json"


def _encode_item(item):
    """One item of a streamed answer: (200, bytes, content type); a JSON value (a dict, ...) is
    newline-delimited JSON."""
    if isinstance(item, str):
        return 200, item.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(item, (bytes, bytearray, memoryview)):
        return 200, bytes(item), "application/octet-stream"
    return 200, _ENCODER.encode(item).encode("utf-8"), "application/x-ndjson"


class _Stream:
    """A predict() or get() that returned an iterator (a generator): the replica asks for its
    items one by one, on any execution thread, and sends each as it comes."""

    def __init__(self, iterator, request_id, where):
        self._iterator = iterator
        self._request_id = request_id
        self._where = where

    def next(self):
        """The next item as (200, bytes, content type); None at the end; (status, None, message)
        for a failure (logged). Never raises."""
        _working_on([self._request_id])
        try:
            return _encode_item(next(self._iterator))
        except StopIteration:
            return None
        except Exception as e:
            return _failure(e, self._where, [self._request_id])
        finally:
            _handling.request_id = ""

    def close(self):
        """Stops the iterator: a generator's close() runs its finally blocks. Never raises."""
        iterator, self._iterator = self._iterator, None
        close = getattr(iterator, "close", None)
        if not callable(close):
            return
        _working_on([self._request_id])
        try:
            close()
        except Exception as e:
            print(f"request {self._request_id}: closing the iterator of {self._where} raised "
                  f"{_describe(e)}\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        finally:
            _handling.request_id = ""


def _error(status, message):
    """A failure: (status, None, message). The replica builds the answer's body (with the
    request id) and strips server paths from the message."""
    return status, None, message


def _failure_message(e, where, request_ids):
    """(status, message) for an exception raised by the predictor; logs unexpected ones."""
    status = getattr(e, "status_code", None)
    if isinstance(status, int) and 400 <= status <= 599:  # the predictor's own verdict
        return status, str(e)
    print(f"request {', '.join(request_ids)}: {where} raised {_describe(e)}\n"
          f"{traceback.format_exc()}", file=sys.stderr, flush=True)
    return 500, f"{where} raised {_describe(e)}"


def _failure(e, where, request_ids):
    """The answer for an exception raised by the predictor."""
    return _error(*_failure_message(e, where, request_ids))


_NO_PREDICT = (405, "this API's predictor has no predict() method; it answers the Open "
                    "Inference Protocol only (POST /v2/models/<api>/infer)")


def _check_batch(results, count, where, each, given):
    """With server_side_batching, `results` must be a list (or tuple) of `count` results."""
    if not isinstance(results, (list, tuple)) or len(results) != count:
        got = (f"{len(results)} results" if isinstance(results, (list, tuple))
               else f"a {type(results).__name__}")
        raise TypeError(f"with server_side_batching, {where} must return a list with one "
                        f"{each}; it got {count} {given} and returned {got}")


@_forgets_requests
def handle_batch(loaded, bodies, content_types, query_params, headers):
    """server_side_batching: one predict() call with a list per argument for the requests
    whose bodies decode; returns one (status, body, content type) per request. Never raises."""
    if loaded.predict_args is None:
        return [_error(*_NO_PREDICT)] * len(bodies)
    answers = [None] * len(bodies)
    batch = []
    for i, (body, content_type) in enumerate(zip(bodies, content_types)):
        try:
            payload = _decode(body, content_type) if "payload" in loaded.predict_args else None
            batch.append((i, payload))
        except _BadRequest as e:
            answers[i] = _error(400, str(e))
    if batch:
        values = {"payload": [p for _, p in batch],
                  "query_params": [query_params[i] for i, _ in batch],
                  "headers": [headers[i] for i, _ in batch]}
        request_ids = [headers[i].get("X-Request-ID", "-") for i, _ in batch]
        _working_on(request_ids)
        try:
            results = loaded.instance.predict(**{n: values[n] for n in loaded.predict_args})
            _check_batch(results, len(batch), "predict()", "result per payload", "payloads")
            for (i, _), result in zip(batch, results):
                try:
                    answers[i] = _encode(result)
                except Exception as e:
                    answers[i] = _failure(e, "predict()", request_ids)
        except Exception as e:
            failed = _failure(e, "predict()", request_ids)
            for i, _ in batch:
                answers[i] = failed
    return answers


@_forgets_requests
def handle(loaded, is_get, body, content_type, query_params, headers):
    """Returns (status, body bytes, content type) for one request, (status, None, error
    message) for a failure, or (200, _Stream, None) for an iterator to stream; never raises."""
    request_id = headers.get("X-Request-ID", "-")
    _handling.request_id = "" if request_id == "-" else request_id  # as _working_on() does
    try:
        if is_get:
            if loaded.get_args is None:
                return _error(405, "this API's predictor has no get() method; use POST")
            values = {"query_params": query_params, "headers": headers}
            result = loaded.instance.get(**{name: values[name] for name in loaded.get_args})
        elif loaded.predict_args is None:
            return _error(*_NO_PREDICT)
        elif loaded.predict_args == ("payload",):  # the usual predict(payload): nothing to build
            result = loaded.instance.predict(payload=_decode(body, content_type))
        else:
            values = {"payload": (_decode(body, content_type)
                                  if "payload" in loaded.predict_args else None),
                      "query_params": query_params, "headers": headers}
            result = loaded.instance.predict(**{name: values[name]
                                                for name in loaded.predict_args})
        if isinstance(result, collections.abc.Iterator):  # streamed: (200, _Stream, None)
            return 200, _Stream(result, request_id, "get()" if is_get else "predict()"), None
        return _encode(result)
    except _BadRequest as e:
        return _error(400, str(e))
    except Exception as e:
        return _failure(e, "get()" if is_get else "predict()", [request_id])


# --- The Open Inference Protocol: predict_v2(inputs, parameters, headers) -------------------
# The replica decodes and checks the request; tensors cross as (name, dtype, shape, bytes)
# with numpy dtype names ("float32", ..., "bytes" for BYTES: each element a 4-byte
# little-endian length, then its bytes).

_NUMERIC = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float16", "float32", "float64"}


def _to_array(np, name, dtype, shape, data):
    if dtype != "bytes":
        return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    elements, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        elements.append(bytes(data[at + 4:at + 4 + length]))
        at += 4 + length
    array = np.empty(len(elements), dtype=object)
    array[:] = elements
    return array.reshape(shape)


def _from_array(np, name, value):
    """(name, dtype, shape, bytes) for one output of predict_v2()."""
    if not isinstance(name, str):
        raise TypeError(f"predict_v2() returned an output named {name!r}; names must be str")
    array = np.asarray(value)
    if array.dtype.kind in "USO":  # str, bytes or objects: BYTES
        parts = []
        for element in array.reshape(-1):
            if isinstance(element, str):
                element = element.encode("utf-8")
            elif isinstance(element, (bytes, bytearray, memoryview)):
                element = bytes(element)
            else:
                raise TypeError(f"predict_v2() returned output {name!r} holding a "
                                f"{type(element).__name__}; BYTES outputs hold str or bytes")
            parts.append(struct.pack("<I", len(element)) + element)
        return name, "bytes", array.shape, b"".join(parts)
    if array.dtype.name not in _NUMERIC:
        raise TypeError(f"predict_v2() returned output {name!r} of dtype {array.dtype.name}, "
                        f"which the Open Inference Protocol cannot carry")
    array = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
    return name, array.dtype.name, array.shape, array.tobytes()


def _v2_outputs(np, result):
    if not isinstance(result, dict):
        raise TypeError(f"predict_v2() must return a dict of output name -> array, got a "
                        f"{type(result).__name__}")
    return [_from_array(np, name, value) for name, value in result.items()]


@_forgets_requests
def handle_v2(loaded, batched, inputs, parameters, headers):
    """Open Inference Protocol requests: one predict_v2() call for all of them when `batched`
    (lists in, a list of dicts out), else one call per request. Returns, per request,
    (200, outputs) or (status, error message). Never raises."""
    if loaded.predict_v2_args is None:
        return [(400, "this API's predictor has no predict_v2() method, which the Open "
                      "Inference Protocol needs; see docs/predictors.md")] * len(inputs)
    request_ids = [h.get("X-Request-ID", "-") for h in headers]
    _working_on(request_ids)
    try:
        import numpy as np
        values = {"inputs": [{t[0]: _to_array(np, *t) for t in tensors} for tensors in inputs],
                  "parameters": [json.loads(p) for p in parameters], "headers": headers}
    except Exception as e:
        return [_failure_message(e, "decoding the inputs", request_ids)] * len(inputs)
    names = loaded.predict_v2_args
    if not batched:
        answers = []
        for k in range(len(inputs)):
            try:
                result = loaded.instance.predict_v2(**{n: values[n][k] for n in names})
                answers.append((200, _v2_outputs(np, result)))
            except Exception as e:
                answers.append(_failure_message(e, "predict_v2()", [request_ids[k]]))
        return answers
    try:
        results = loaded.instance.predict_v2(**{n: values[n] for n in names})
        _check_batch(results, len(inputs), "predict_v2()", "dict per request", "requests")
    except Exception as e:
        return [_failure_message(e, "predict_v2()", request_ids)] * len(inputs)
    answers = []
    for k, result in enumerate(results):
        try:
            answers.append((200, _v2_outputs(np, result)))
        except Exception as e:
            answers.append(_failure_message(e, "predict_v2()", [request_ids[k]]))
    return answers
