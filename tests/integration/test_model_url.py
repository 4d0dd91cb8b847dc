"""model_path as an http:// URL: the operator downloads the model at deploy into the version's
bundle. The model server is Python's http.server on 127.0.0.1, serving an XGBoost booster built
here; answers are checked against Python's xgboost."""
import http.server
import os
import threading

import pytest

from test_multi_model import write_booster


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/moved/"):  # a redirect, as object stores and CDNs answer
            self.send_response(302)
            self.send_header("Location", self.path[len("/moved"):])
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def model_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = lambda *a, **kw: _Handler(*a, directory=str(root), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def write_spec(folder, url):
    folder.mkdir(exist_ok=True)
    spec = folder / "axon.yaml"
    spec.write_text(f"name: trees\nkind: RealtimeAPI\npredictor:\n  type: xgboost\n"
                    f"  model_path: {url}\n")
    return spec


def test_a_model_url_is_downloaded_into_the_bundle(platform, model_server):
    import numpy as np
    import xgboost
    served, base = model_server
    booster = write_booster(served / "v1", seed=4)
    spec = write_spec(platform.work_dir / "api", f"{base}/moved/v1/model.json")
    platform.deploy(spec)
    platform.wait_live("trees")
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    res = platform.predict_when_routed("/trees", {"instances": x.tolist()})
    assert res.status_code == 200, res.text
    got = np.array(res.json()["predictions"])
    assert np.max(np.abs(got - booster.predict(xgboost.DMatrix(x)))) < 1e-5

    # The replica serves the bundle's copy: the server going away changes nothing.
    os.remove(served / "v1" / "model.json")
    assert platform.predict("/trees", {"instances": x.tolist()}).status_code == 200

    # The same URL with a new file behind it: a deploy downloads again, a new version.
    newer = write_booster(served / "v1", seed=5)
    out = platform.axon_ok("deploy", "--no-wait", spec)
    assert "version 2" in out, out
    want = newer.predict(xgboost.DMatrix(x))
    platform.wait_live("trees")

    def answers_new():
        r = platform.predict("/trees", {"instances": x.tolist()})
        return r.status_code == 200 and np.max(np.abs(np.array(r.json()["predictions"]) - want)) < 1e-5

    from conftest import wait_for
    wait_for(lambda: bool(answers_new()), timeout=60, message="version 2's model answers")
    # The same file again: nothing to do.
    assert "unchanged" in platform.axon_ok("deploy", "--no-wait", spec)


def test_a_model_url_that_fails_fails_the_deploy_clearly(platform, model_server):
    _, base = model_server
    spec = write_spec(platform.work_dir / "missing", f"{base}/nothing/model.json")
    res = platform.axon("deploy", "--no-wait", spec)
    assert res.returncode != 0
    assert f"model_path {base}/nothing/model.json: HTTP 404" in res.stderr, res.stderr
    assert str(platform.home) not in res.stderr
    # Nothing listens there.
    spec = write_spec(platform.work_dir / "down", "http://127.0.0.1:9/model.json")
    res = platform.axon("deploy", "--no-wait", spec)
    assert res.returncode != 0 and "cannot reach 127.0.0.1:9" in res.stderr, res.stderr
    # The platform serves on: nothing was deployed, and nothing of the downloads is left.
    assert "trees" not in platform.axon_ok("get")
    downloads = platform.home / "downloads"
    assert not downloads.exists() or not any(downloads.iterdir())


def test_a_url_is_checked_when_the_spec_is_read(platform):
    spec = write_spec(platform.work_dir / "bad", "https://models.example.com/")
    res = platform.axon("deploy", "--no-wait", spec)
    assert res.returncode != 0
    assert "must be a URL of one model file" in res.stderr, res.stderr
