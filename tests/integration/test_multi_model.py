"""Many models in one API (predictor.models as a mapping): models chosen by ?model=NAME, loaded
on first use into an LRU of cache_size per replica, numbered version folders loaded live.

The models are built here: small JSON files, and a scikit-learn tree pickled by this test's
interpreter (/usr/bin/python3, the Python the replicas embed). The predictor's load and unload
hooks append to a file, which shows the order in which models were loaded and evicted.
"""

import json
import os
import pickle
import threading
import time

import requests

from conftest import HTTP_TIMEOUT, wait_for

PREDICTOR = """\
import json
import os
import pickle
import time


class PythonPredictor:
    def __init__(self, config, model_client):
        self.client = model_client
        self.journal = config["journal"]
        self.load_delay = config.get("load_delay", 0)

    def note(self, line):
        with open(self.journal, "a") as f:
            f.write(line + "\\n")

    def load_model(self, model_path, model_name, model_version):
        time.sleep(self.load_delay)
        pickled = os.path.join(model_path, "model.pkl")
        if os.path.exists(pickled):
            with open(pickled, "rb") as f:
                model = pickle.load(f)
        else:
            with open(os.path.join(model_path, "model.json")) as f:
                model = json.load(f)
        self.note(f"load {model_name} {model_version}")
        return model

    def unload_model(self, model, model_name, model_version):
        self.note(f"unload {model_name} {model_version}")

    def predict(self, payload, query_params):
        model = self.client.get_model(query_params.get("model"), query_params.get("version"))
        if isinstance(model, dict):
            return {"model": model["name"], "version": model["version"],
                    "y": payload["x"] * model["scale"]}
        return {"model": "iris", "class": int(model.predict([payload["x"]])[0])}
"""


def write_json_model(folder, name, version, scale):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({"name": name, "version": version, "scale": scale}, f)


def write_tree_model(folder):
    """A decision tree that tells two clusters apart: class 0 near (0, 0), class 1 near (5, 5)."""
    from sklearn.tree import DecisionTreeClassifier
    tree = DecisionTreeClassifier(random_state=0).fit(
        [[0, 0], [0.5, 0.2], [5, 5], [5.2, 4.8]], [0, 0, 1, 1])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.pkl"), "wb") as f:
        pickle.dump(tree, f)


def write_api(work, models_yaml, load_delay=0):
    """work/api/{predictor.py, axon.yaml} for API `many`; the models live outside the
    predictor's folder (read in place, not bundled). Returns (spec, journal path)."""
    api = work / "api"
    api.mkdir(parents=True, exist_ok=True)
    (api / "predictor.py").write_text(PREDICTOR)
    journal = work / "journal.txt"
    journal.write_text("")
    spec = api / "axon.yaml"
    spec.write_text(
        "name: many\nkind: RealtimeAPI\npredictor:\n  type: python\n  path: predictor.py\n"
        f"  config: {{journal: {json.dumps(str(journal))}, load_delay: {load_delay}}}\n"
        "  models:\n" + models_yaml)
    return spec, journal


def journal_lines(journal):
    return [line for line in journal.read_text().splitlines() if line]


def ask(platform, model, x=2, version=None):
    params = {"model": model} if model is not None else {}
    if version is not None:
        params["version"] = version
    return platform.predict("/many", {"x": x}, params=params)


def test_models_by_name_lru_order_and_metadata(platform):
    work = platform.work_dir
    for name, scale in (("a", 10), ("b", 100), ("c", 1000)):
        write_json_model(work / "zoo" / name / "1", name, 1, scale)
    write_tree_model(work / "iris")
    spec, journal = write_api(work, "    dir: ../zoo\n    paths: [{name: iris, path: ../iris}]\n"
                                    "    cache_size: 2\n    disk_cache_size: 5\n")
    platform.deploy(spec)
    platform.wait_live("many")

    first = platform.predict_when_routed("/many", {"x": 2}, params={"model": "a"})
    assert first.status_code == 200, first.text
    assert first.json() == {"model": "a", "version": 1, "y": 20}
    assert ask(platform, "b").json()["y"] == 200
    assert ask(platform, "a").json()["y"] == 20  # a is now the most recently used
    assert ask(platform, "c").json()["y"] == 2000  # evicts b, the least recently used
    assert journal_lines(journal) == ["load a 1", "load b 1", "load c 1", "unload b 1"]

    metadata = platform.predict("/many/metadata", method="GET")
    assert metadata.status_code == 200, metadata.text
    cache = metadata.json()["multi_model"]
    assert cache["cache_size"] == 2 and cache["disk_cache_size"] == 5
    assert cache["loaded"] == [{"name": "a", "version": 1}, {"name": "c", "version": 1}]
    assert [m["name"] for m in cache["models"]] == ["a", "b", "c", "iris"]
    assert {m["name"]: m["loaded"] for m in cache["models"]} == {
        "a": [1], "b": [], "c": [1], "iris": []}
    iris = next(m for m in cache["models"] if m["name"] == "iris")
    assert iris["versions"] == [] and iris["latest"] == 0  # a folder without numbered versions

    # A real scikit-learn model among them; loading it evicts a.
    assert ask(platform, "iris", x=[5.1, 5.0]).json() == {"model": "iris", "class": 1}
    assert ask(platform, "iris", x=[0.1, 0.0]).json() == {"model": "iris", "class": 0}
    assert journal_lines(journal)[-2:] == ["load iris 0", "unload a 1"]

    described = platform.axon_ok("describe", "many")
    assert "models: loaded on first use, at most 2 per replica (disk_cache_size 5)" in described
    assert "(least recently used first): c 1, iris (unversioned)" in described

    unknown = ask(platform, "nope")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == 'no model named "nope"; this API serves: a, b, c, iris'
    unnamed = ask(platform, None)
    assert unnamed.status_code == 400
    assert "ask for one with ?model=NAME" in unnamed.json()["error"]
    no_version = ask(platform, "a", version=9)
    assert no_version.status_code == 404
    assert no_version.json()["error"] == 'model "a" has no version 9; versions: 1'
    assert ask(platform, "a", version="x").status_code == 400
    # No answer shows a server path.
    for res in (unknown, unnamed, no_version):
        assert str(work) not in res.text


def test_new_version_is_loaded_live_under_load(platform):
    work = platform.work_dir
    write_json_model(work / "zoo" / "m" / "1", "m", 1, 1)
    write_json_model(work / "zoo" / "other" / "1", "other", 1, 7)
    # Loading takes a while, so requests arrive while version 2 loads.
    spec, journal = write_api(work, "    dir: ../zoo\n    cache_size: 1\n", load_delay=0.5)
    platform.deploy(spec)
    pids = [r["pid"] for r in platform.wait_live("many")["replicas"]]
    assert platform.predict_when_routed("/many", {"x": 3}, params={"model": "m"}).json() == {
        "model": "m", "version": 1, "y": 3}

    stop = threading.Event()
    answers = []  # (status, version or error text)

    def client():
        session = requests.Session()
        deadline = time.monotonic() + 60
        while not stop.is_set() and len(answers) < 20000 and time.monotonic() < deadline:
            try:
                res = session.post(platform.gateway_url + "/many", json={"x": 3},
                                   params={"model": "m"}, timeout=HTTP_TIMEOUT)
                answers.append((res.status_code, res.json().get("version", res.text)))
            except Exception as e:  # a dropped connection counts as a failure
                answers.append((0, repr(e)))

    thread = threading.Thread(target=client)
    thread.start()
    try:
        wait_for(lambda: len(answers) >= 20, timeout=20, message="requests before the switch")
        # A new version appears whole: written beside the zoo, then renamed into place.
        write_json_model(work / "staging", "m", 2, 2)
        os.rename(work / "staging", work / "zoo" / "m" / "2")
        wait_for(lambda: any(v == 2 for _, v in answers[-5:]), timeout=30,
                 message="answers from version 2")
        seen = len(answers)
        wait_for(lambda: len(answers) >= seen + 20, timeout=20, message="requests after it")
    finally:
        stop.set()
        thread.join(HTTP_TIMEOUT + 5)
    failed = [a for a in answers if a[0] != 200]
    assert failed == [], f"{len(failed)} of {len(answers)} requests failed: {failed[:5]}"
    versions = [v for _, v in answers]
    switch = versions.index(2)
    assert switch > 0 and set(versions[:switch]) == {1} and set(versions[switch:]) == {2}
    # Loaded before it was served, then version 1 left the cache; no replica restarted.
    assert journal_lines(journal) == ["load m 1", "load m 2", "unload m 1"]
    assert [r["pid"] for r in platform.describe("many")["replicas"]] == pids

    # The old version can still be asked for; it is loaded again (and evicts version 2).
    assert ask(platform, "m", x=3, version=1).json() == {"model": "m", "version": 1, "y": 3}
    assert ask(platform, "m", x=3).json()["version"] == 2
    cache = platform.predict("/many/metadata", method="GET").json()["multi_model"]
    assert next(m for m in cache["models"] if m["name"] == "m") == {
        "name": "m", "versions": [1, 2], "latest": 2, "loaded": [2]}


def test_missing_model_folder_fails_the_deploy(platform):
    spec, _ = write_api(platform.work_dir, "    dir: ../no-such-zoo\n    cache_size: 0\n")
    result = platform.axon("deploy", "--no-wait", spec)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "predictor.models.dir: not found: " in output
    assert "predictor.models.cache_size: must be an integer from 1 to 1000000, got 0" in output


def test_path_form_is_the_query_form(platform):
    work = platform.work_dir
    write_json_model(work / "zoo" / "a" / "1", "a", 1, 10)
    write_json_model(work / "zoo" / "a" / "2", "a", 2, 20)
    write_json_model(work / "zoo" / "metadata" / "1", "metadata", 1, 5)
    spec, _ = write_api(work, "    dir: ../zoo\n")
    platform.deploy(spec)
    platform.wait_live("many")

    by_path = platform.predict_when_routed("/many/a", {"x": 2})
    assert by_path.status_code == 200, by_path.text
    assert by_path.json() == ask(platform, "a").json() == {"model": "a", "version": 2, "y": 40}
    # The rest of the query string is kept.
    assert platform.predict("/many/a", {"x": 2}, params={"version": 1}).json()["version"] == 1
    # /<endpoint>/metadata keeps its meaning, even beside a model named "metadata".
    metadata = platform.predict("/many/metadata", method="GET")
    assert metadata.status_code == 200 and "multi_model" in metadata.json(), metadata.text
    unknown = platform.predict("/many/nope", {"x": 2})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == 'no model named "nope"; this API serves: a, metadata'
    twice = platform.predict("/many/a", {"x": 2}, params={"model": "a"})
    assert twice.status_code == 400 and "named twice" in twice.json()["error"], twice.text
    bad = platform.predict("/many/.a", {"x": 2})
    assert bad.status_code == 404 and "/many/<model>" in bad.json()["error"], bad.text


def write_booster(folder, seed, n_features=4):
    """An XGBoost regressor of `n_features` features trained on seeded random data; returns the
    booster as Python's runtime loads it back."""
    import numpy as np
    import xgboost
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((200, n_features)).astype(np.float32)
    y = x @ rng.standard_normal(n_features) + rng.standard_normal(200) * 0.1
    booster = xgboost.train({"max_depth": 3, "seed": seed}, xgboost.DMatrix(x, label=y),
                            num_boost_round=10)
    os.makedirs(folder, exist_ok=True)
    staged = os.path.join(folder, ".model.json")  # then renamed: never seen half-written
    booster.save_model(staged)
    os.rename(staged, os.path.join(folder, "model.json"))
    return xgboost.Booster(model_file=os.path.join(folder, "model.json"))


def test_native_many_models_lru_and_new_versions(platform):
    import numpy as np
    import xgboost
    work = platform.work_dir
    boosters = {"a": write_booster(work / "trees" / "a" / "1", seed=1),
                "b": write_booster(work / "trees" / "b", seed=2)}  # unversioned
    api = work / "native"
    api.mkdir()
    spec = api / "axon.yaml"
    spec.write_text("name: trees\nkind: RealtimeAPI\npredictor:\n  type: xgboost\n"
                    "  models: {dir: ../trees, cache_size: 1}\n")
    platform.deploy(spec)
    pids = [r["pid"] for r in platform.wait_live("trees")["replicas"]]

    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    body = {"instances": x.tolist()}

    def predicted(res):
        assert res.status_code == 200, res.text
        return np.array(res.json()["predictions"], dtype=np.float64)

    def loaded():
        res = platform.predict("/trees/metadata", method="GET")
        assert res.status_code == 200, res.text
        assert res.json()["type"] == "xgboost"
        return res.json()["multi_model"]["loaded"]

    assert loaded() == []  # nothing is loaded before it is asked for
    got_a = predicted(platform.predict_when_routed("/trees/a", body))
    assert np.max(np.abs(got_a - boosters["a"].predict(xgboost.DMatrix(x)))) < 1e-5
    assert loaded() == [{"name": "a", "version": 1}]
    got_b = predicted(platform.predict("/trees", body, params={"model": "b"}))
    assert np.max(np.abs(got_b - boosters["b"].predict(xgboost.DMatrix(x)))) < 1e-5
    assert np.max(np.abs(got_a - got_b)) > 1e-3  # two different models answered
    assert loaded() == [{"name": "b", "version": 0}]  # cache_size 1: a was evicted
    described = platform.axon_ok("describe", "trees")
    assert "models: loaded on first use, at most 1 per replica" in described
    assert "(least recently used first): b (unversioned)" in described

    unknown = platform.predict("/trees/nope", body)
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == 'no model named "nope"; this API serves: a, b'
    unnamed = platform.predict("/trees", body)
    assert unnamed.status_code == 400 and "?model=NAME" in unnamed.json()["error"]
    assert platform.predict("/trees/a", body, params={"version": 3}).status_code == 404
    for res in (unknown, unnamed):
        assert str(work) not in res.text

    # A new version of a model in use is loaded live, then served by default.
    assert predicted(platform.predict("/trees/a", body)).shape == (3,)
    new = write_booster(work / "staging", seed=3)
    os.rename(work / "staging", work / "trees" / "a" / "2")
    want = new.predict(xgboost.DMatrix(x))
    # (bool: wait_for takes any result but None and False, and numpy's False is not False.)
    wait_for(lambda: bool(np.max(np.abs(predicted(platform.predict("/trees/a", body)) - want))
                          < 1e-5),
             timeout=30, message="answers from version 2 of model a")
    assert loaded() == [{"name": "a", "version": 2}]
    old = predicted(platform.predict("/trees/a", body, params={"version": 1}))
    assert np.max(np.abs(old - got_a)) < 1e-5
    assert [r["pid"] for r in platform.describe("trees")["replicas"]] == pids
