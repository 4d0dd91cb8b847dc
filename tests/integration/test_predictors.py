"""How a PythonPredictor is called: payload by content type, return value encoding, named
arguments, get(), request ids and the API log."""

import re
import textwrap

from conftest import wait_for, write_api

KINDS_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            self.prefix = config["prefix"]

        def predict(self, payload):
            if isinstance(payload, dict):
                return {"type": "dict", "keys": sorted(payload), "sum": sum(payload.values())}
            if isinstance(payload, list):
                return [x * 2 for x in payload]
            if isinstance(payload, str):
                return self.prefix + payload.upper()
            if isinstance(payload, bytes):
                return payload[::-1]
            return {"type": type(payload).__name__}
    """

ARGS_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self):
            pass

        def predict(self, query_params, headers):
            return {"query_params": query_params,
                    "custom": headers.get("X-Custom"),
                    "request_id": headers.get("X-Request-ID")}

        def get(self, query_params):
            return {"get": True, "query_params": query_params}
    """

PAYLOAD_ONLY_PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            print(f"predict got {payload!r}", flush=True)
            return {"payload": payload}
    """


def deploy(platform, name, source, spec_extra=""):
    spec = write_api(platform.work_dir / name, name, source, spec_extra)
    out = platform.deploy(spec)
    assert f"created api {name} (version 1)" in out
    platform.wait_live(name)
    return spec


def test_json_text_and_bytes_payloads(platform):
    deploy(platform, "kinds", KINDS_PREDICTOR, "  config:\n    prefix: 'got: '\n")
    # JSON object in, JSON object out.
    res = platform.predict_when_routed("/kinds", {"b": 2, "a": 40})
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"] == "application/json"
    assert res.json() == {"type": "dict", "keys": ["a", "b"], "sum": 42}
    # A JSON list, and a JSON content type with parameters.
    res = platform.predict("/kinds", "[1, 2, 3]", "application/json; charset=utf-8")
    assert res.status_code == 200 and res.json() == [2, 4, 6]
    # text/plain in: the predictor gets a str; a str out is text/plain.
    res = platform.predict("/kinds", "héllo".encode("utf-8"), "text/plain; charset=utf-8")
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"].startswith("text/plain")
    assert res.content.decode("utf-8") == "got: HÉLLO"
    # Bytes in (octet-stream), bytes out, byte for byte.
    blob = bytes(range(256)) * 4
    res = platform.predict("/kinds", blob, "application/octet-stream")
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"] == "application/octet-stream"
    assert res.content == blob[::-1]


def test_query_params_and_headers_only_when_named(platform):
    deploy(platform, "args", ARGS_PREDICTOR)
    deploy(platform, "plain", PAYLOAD_ONLY_PREDICTOR)

    # predict(query_params, headers): no payload argument, so the body is never decoded (a
    # malformed JSON body is not an error here).
    res = platform.predict_when_routed("/args", "{not json", params={"k": "v", "n": "2"},
                                       headers={"X-Custom": "hello"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["query_params"] == {"k": "v", "n": "2"}
    assert body["custom"] == "hello"
    assert body["request_id"] == res.headers["X-Request-ID"]

    # predict(payload) only: query parameters and headers are not passed (it would raise
    # TypeError on unexpected keyword arguments), and the payload is.
    res = platform.predict_when_routed("/plain", {"x": 1}, params={"k": "v"},
                                       headers={"X-Custom": "hello"})
    assert res.status_code == 200, res.text
    assert res.json() == {"payload": {"x": 1}}


def test_get_method_with_and_without_get(platform):
    deploy(platform, "args", ARGS_PREDICTOR)
    deploy(platform, "plain", PAYLOAD_ONLY_PREDICTOR)

    res = platform.predict_when_routed("/args", method="GET", params={"q": "1"})
    assert res.status_code == 200, res.text
    assert res.json() == {"get": True, "query_params": {"q": "1"}}

    res = platform.predict_when_routed("/plain", method="GET")
    assert res.status_code == 405
    assert res.headers["Content-Type"] == "application/json"
    assert "get()" in res.json()["error"]

    # Other methods are refused by the gateway itself.
    res = platform.predict("/plain", {"x": 1}, method="PUT")
    assert res.status_code == 405
    assert "PUT" in res.json()["error"]


def test_request_id_generated_and_echoed(platform):
    deploy(platform, "args", ARGS_PREDICTOR)
    first = platform.predict_when_routed("/args", "")
    second = platform.predict("/args", "")
    for res in (first, second):
        assert res.status_code == 200
        assert re.fullmatch(r"[0-9a-f]{16}", res.headers["X-Request-ID"])
        assert res.json()["request_id"] == res.headers["X-Request-ID"]
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]

    given = platform.predict("/args", "", headers={"X-Request-ID": "my-trace-42"})
    assert given.headers["X-Request-ID"] == "my-trace-42"
    assert given.json()["request_id"] == "my-trace-42"

    # Error answers carry it too.
    missing = platform.predict("/nothing-here", "", headers={"X-Request-ID": "trace-404"})
    assert missing.status_code == 404
    assert missing.headers["X-Request-ID"] == "trace-404"


def test_print_in_predict_reaches_the_api_log(platform):
    deploy(platform, "plain", PAYLOAD_ONLY_PREDICTOR)
    res = platform.predict_when_routed("/plain", {"marker": "sparrow-7731"})
    assert res.status_code == 200
    logs = wait_for(lambda: (out := platform.axon_ok("logs", "plain"))
                    and "sparrow-7731" in out and out, timeout=10,
                    message="the print() to reach `axon logs`")
    assert "predict got {'marker': 'sparrow-7731'}" in logs
    assert "ready" in logs  # the replica's own lines are in the same log
    # --tail limits the lines.
    tail = platform.axon_ok("logs", "plain", "--tail", "1")
    assert len(tail.strip().splitlines()) == 1
    # Another API's log does not have it.
    deploy(platform, "args", ARGS_PREDICTOR)
    assert "sparrow-7731" not in platform.axon_ok("logs", "args")
    missing = platform.axon("logs", "nosuchapi")
    assert missing.returncode != 0 and "nosuchapi" in missing.stderr


def test_threads_per_process_and_env(platform):
    source = textwrap.dedent("""\
        import os, threading, time

        class PythonPredictor:
            def __init__(self):
                self.lock = threading.Lock()
                self.active = 0
                self.peak = 0

            def predict(self, payload):
                with self.lock:
                    self.active += 1
                    self.peak = max(self.peak, self.active)
                time.sleep(0.3)
                with self.lock:
                    self.active -= 1
                return {"peak": self.peak, "env": os.environ.get("GREETING"),
                        "api": os.environ.get("AXON_API")}
        """)
    deploy(platform, "threads", source, "  threads_per_process: 4\n  env: {GREETING: hi}\n")
    platform.predict_when_routed("/threads", {})
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: platform.predict("/threads", {}), range(4)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert max(r.json()["peak"] for r in results) >= 2  # calls overlapped
    assert results[0].json()["env"] == "hi"
    assert results[0].json()["api"] == "threads"
