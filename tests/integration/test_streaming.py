"""Streamed answers: a predict() that returns a generator, read through the gateway as it is
produced (chunked transfer and Server-Sent Events), a client that goes away stopping the
generator, a failure half-way, and a stream that outlasts the API's timeout."""

import json
import socket

from conftest import HTTP_TIMEOUT, wait_for, write_api

# The test and the predictor share a folder of signal files: the predictor's generator waits
# for "<tag>.release" (written by the test once it has read the first item), and writes
# "<tag>.closed" when it is stopped.
STREAM_PREDICTOR = """\
    import os
    import time

    class PythonPredictor:
        def __init__(self, config):
            self.signals = config["signals"]

        def _signal(self, name):
            return os.path.join(self.signals, name)

        def _wait_for(self, name, limit=10.0):
            deadline = time.monotonic() + limit
            while not os.path.exists(self._signal(name)):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
            return True

        def predict(self, payload):
            mode, tag = payload["mode"], payload.get("tag", "")
            if mode == "wait":
                def items():
                    yield {"item": 1}
                    yield {"item": 2, "released": self._wait_for(tag + ".release")}
                return items()
            if mode == "endless":
                def items():
                    sent = 0
                    try:
                        for sent in range(2000):  # bounded: 2000 items 10 ms apart
                            yield f"tick {sent}\\n"
                            time.sleep(0.01)
                    finally:
                        with open(self._signal(tag + ".closed"), "w") as f:
                            f.write(str(sent))
                return items()
            if mode == "fail":
                def items():
                    yield "one\\n"
                    raise RuntimeError("failed reading /srv/secret/model.bin")
                return items()
            if mode == "fail_first":
                def items():
                    raise ValueError("no first item")
                    yield "never"
                return items()
            if mode == "slow":
                def items():
                    for i in range(8):
                        time.sleep(0.25)
                        yield f"{i}\\n"
                return items()
            if mode == "empty":
                return iter(())
            return {"whole": True}
    """


def deploy_streams(platform, name="streams", spec_extra=""):
    signals = platform.work_dir / "signals"
    signals.mkdir(exist_ok=True)
    spec = write_api(platform.work_dir / name, name, STREAM_PREDICTOR,
                     f"  config:\n    signals: '{signals}'\n" + spec_extra)
    out = platform.deploy(spec)
    assert f"created api {name} (version 1)" in out
    platform.wait_live(name)
    platform.wait_routed(name)
    return signals


def post_stream(platform, endpoint, payload, headers=None):
    return platform.http.post(platform.gateway_url + endpoint, json=payload, stream=True,
                              headers=headers or {}, timeout=HTTP_TIMEOUT)


def raw_request(platform, endpoint, payload, accept=None):
    body = json.dumps(payload).encode()
    head = (f"POST {endpoint} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + (f"Accept: {accept}\r\n" if accept else "") +
            "\r\n")
    s = socket.create_connection(("127.0.0.1", platform.gateway_port), timeout=HTTP_TIMEOUT)
    s.sendall(head.encode() + body)
    return s


def read_until_closed(s):
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def test_chunked_stream_arrives_as_it_is_produced(platform):
    signals = deploy_streams(platform)
    with post_stream(platform, "/streams", {"mode": "wait", "tag": "chunked"}) as res:
        assert res.status_code == 200
        assert res.headers["Transfer-Encoding"] == "chunked"
        assert res.headers["Content-Type"] == "application/x-ndjson"
        assert res.headers["X-Request-ID"]
        lines = res.iter_lines()
        # The generator is still waiting for the release file: the first item came before it
        # finished.
        assert json.loads(next(lines)) == {"item": 1}
        assert not (signals / "chunked.release").exists()
        (signals / "chunked.release").write_text("go")
        assert [json.loads(line) for line in lines if line] == [{"item": 2, "released": True}]
    # The stream is counted once it ends, like any answer.
    wait_for(lambda: platform.gateway_stats()["streams"]["2xx"] >= 1, timeout=5,
             message="the stream in the statistics")
    # The connection and the replica serve ordinary answers as before.
    res = platform.predict("/streams", {"mode": "whole"})
    assert res.status_code == 200 and res.json() == {"whole": True}
    assert "Content-Length" in res.headers


def test_event_stream_arrives_as_it_is_produced(platform):
    signals = deploy_streams(platform)
    with post_stream(platform, "/streams", {"mode": "wait", "tag": "sse"},
                     headers={"Accept": "text/event-stream"}) as res:
        assert res.status_code == 200
        assert res.headers["Content-Type"] == "text/event-stream"
        assert res.headers["Cache-Control"] == "no-cache"
        lines = res.iter_lines(decode_unicode=True)
        assert next(lines) == 'data: {"item": 1}'
        assert next(lines) == ""  # the end of the first event
        assert not (signals / "sse.release").exists()
        (signals / "sse.release").write_text("go")
        assert list(lines) == ['data: {"item": 2, "released": true}', ""]


def test_a_client_that_goes_away_stops_the_generator(platform):
    signals = deploy_streams(platform)
    s = raw_request(platform, "/streams", {"mode": "endless", "tag": "gone"})
    data = b""
    while b"tick 0\n" not in data:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    s.close()
    closed = signals / "gone.closed"
    wait_for(closed.exists, timeout=10, message="the generator to be closed")
    assert int(closed.read_text()) < 1999  # stopped, not run to its end
    res = platform.predict("/streams", {"mode": "whole"})
    assert res.status_code == 200 and res.json() == {"whole": True}


def test_a_failure_half_way_ends_the_stream_without_detail(platform):
    deploy_streams(platform)
    # Chunked: the items so far, then the connection closes without the last chunk.
    s = raw_request(platform, "/streams", {"mode": "fail"})
    data = read_until_closed(s)
    s.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"Transfer-Encoding: chunked" in head
    assert b"one\n" in body
    assert not body.endswith(b"0\r\n\r\n"), body
    assert b"secret" not in body and b"Traceback" not in body
    # Events: the items so far, then an error event with the request id, and a proper end.
    with post_stream(platform, "/streams", {"mode": "fail"},
                     headers={"Accept": "text/event-stream", "X-Request-ID": "halfway"}) as res:
        assert res.status_code == 200
        text = res.content.decode()
    events = [e for e in text.split("\n\n") if e]
    assert events[0] == "data: one\ndata: "
    assert events[1].startswith("event: error\ndata: ")
    error = json.loads(events[1].split("data: ", 1)[1])
    assert error["request_id"] == "halfway"
    assert "RuntimeError" in error["error"] and "<path>" in error["error"]
    assert "secret" not in text and "Traceback" not in text
    # The whole story is in the API's log.
    log = platform.home / "logs" / "streams.log"
    wait_for(lambda: "failed reading /srv/secret/model.bin" in log.read_text(), timeout=5,
             message="the failure in the API log")
    assert "Traceback" in log.read_text()


def test_a_failure_before_the_first_item_is_an_ordinary_error(platform):
    deploy_streams(platform)
    res = platform.predict("/streams", {"mode": "fail_first"})
    assert res.status_code == 500
    assert "ValueError: no first item" in res.json()["error"]
    res = platform.predict("/streams", {"mode": "empty"})
    assert res.status_code == 200 and res.content == b""


def test_a_stream_that_makes_progress_outlasts_the_timeout(platform):
    # 8 items 250 ms apart: 2 s in all, with a timeout of 1 s on each wait.
    deploy_streams(platform, spec_extra="networking:\n  timeout: 1s\n")
    with post_stream(platform, "/streams", {"mode": "slow"}) as res:
        assert res.status_code == 200
        assert res.content.decode().split() == [str(i) for i in range(8)]
