"""Unit tests of model_cache.py: LRU eviction order, load and unload hooks, version choice and
live versions found by refresh(). Run by CTest (python_model_cache_test) with /usr/bin/python3."""
import os
import shutil
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_cache  # noqa: E402
from model_cache import ModelCache, ModelError, SetupError  # noqa: E402


class Recorder:
    """A predictor whose models are the contents of their model.txt; records hook calls."""

    def __init__(self):
        self.calls = []
        self.fail = set()

    def load_model(self, model_path, model_name, model_version):
        self.calls.append(("load", model_name, model_version))
        if model_name in self.fail:
            raise ValueError("broken model file")
        with open(os.path.join(model_path, "model.txt")) as f:
            return f.read()

    def unload_model(self, model, model_name, model_version):
        self.calls.append(("unload", model_name, model_version))


class ModelCacheTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="axon_model_cache_test_")
        self.published = []

    def tearDown(self):
        shutil.rmtree(self.root)

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def cache(self, cache_size, instance=None, **extra):
        spec = {"dir": os.path.join(self.root, "zoo"), "cache_size": cache_size, **extra}
        cache = ModelCache(spec, publish=self.published.append, replica="r1")
        cache.attach(instance or Recorder())
        return cache

    def zoo(self, *names):
        for name in names:
            self.write(f"zoo/{name}/1/model.txt", f"{name}-v1")

    def test_least_recently_used_model_is_evicted_first(self):
        self.zoo("a", "b", "c")
        recorder = Recorder()
        cache = self.cache(2, recorder)
        self.assertEqual(cache.get_model("a"), "a-v1")
        self.assertEqual(cache.get_model("b"), "b-v1")
        self.assertEqual(cache.get_model("a"), "a-v1")  # a is now the most recent
        self.assertEqual(cache.get_model("c"), "c-v1")  # evicts b, not a
        self.assertEqual(recorder.calls, [("load", "a", 1), ("load", "b", 1),
                                          ("load", "c", 1), ("unload", "b", 1)])
        self.assertEqual(cache.describe()["loaded"],
                         [{"name": "a", "version": 1}, {"name": "c", "version": 1}])
        cache.get_model("b")  # loaded again; a is the least recent now
        self.assertEqual(recorder.calls[-2:], [("load", "b", 1), ("unload", "a", 1)])

    def test_a_loaded_model_is_not_loaded_again(self):
        self.zoo("a")
        recorder = Recorder()
        cache = self.cache(1, recorder)
        for _ in range(3):
            cache.get_model("a")
        self.assertEqual(recorder.calls, [("load", "a", 1)])

    def test_no_limit_without_cache_size(self):
        self.zoo("a", "b", "c")
        recorder = Recorder()
        cache = self.cache(0, recorder)
        for name in "abc":
            cache.get_model(name)
        self.assertEqual(len(cache.describe()["loaded"]), 3)
        self.assertNotIn("unload", [c[0] for c in recorder.calls])

    def test_unload_hook_is_optional(self):
        self.zoo("a", "b")

        class LoadOnly:
            def load_model(self, model_path):
                return model_path

        cache = self.cache(1, LoadOnly())
        cache.get_model("a")
        cache.get_model("b")
        self.assertEqual(cache.describe()["loaded"], [{"name": "b", "version": 1}])

    def test_predictor_without_load_model_is_refused(self):
        self.zoo("a")
        cache = ModelCache({"dir": os.path.join(self.root, "zoo")})
        with self.assertRaisesRegex(SetupError, "must define load_model"):
            cache.attach(object())

        class Odd:
            def load_model(self, model_path, device):
                return None

        with self.assertRaisesRegex(SetupError, "parameter 'device' that Axon cannot fill"):
            cache.attach(Odd())

    def test_unknown_model_and_version(self):
        self.zoo("a", "b")
        cache = self.cache(2)
        with self.assertRaises(ModelError) as unknown:
            cache.get_model("nope")
        self.assertEqual(unknown.exception.status_code, 404)
        self.assertIn('no model named "nope"; this API serves: a, b', str(unknown.exception))
        with self.assertRaises(ModelError) as no_name:
            cache.get_model(None)
        self.assertEqual(no_name.exception.status_code, 400)
        self.assertIn("?model=NAME", str(no_name.exception))
        with self.assertRaises(ModelError) as bad_version:
            cache.get_model("a", "two")
        self.assertEqual(bad_version.exception.status_code, 400)
        with self.assertRaises(ModelError) as missing_version:
            cache.get_model("a", 7)
        self.assertEqual(missing_version.exception.status_code, 404)
        self.assertIn('model "a" has no version 7; versions: 1', str(missing_version.exception))

    def test_failed_load_is_a_500_and_is_retried(self):
        self.zoo("a")
        recorder = Recorder()
        recorder.fail.add("a")
        cache = self.cache(1, recorder)
        with self.assertRaises(ModelError) as failed:
            cache.get_model("a")
        self.assertEqual(failed.exception.status_code, 500)
        self.assertIn("ValueError: broken model file", str(failed.exception))
        recorder.fail.clear()
        self.assertEqual(cache.get_model("a"), "a-v1")

    def test_highest_version_by_default_and_explicit_versions(self):
        self.write("zoo/a/1/model.txt", "a-v1")
        self.write("zoo/a/3/model.txt", "a-v3")
        cache = self.cache(2)
        self.assertEqual(cache.get_model("a"), "a-v3")
        self.assertEqual(cache.get_model("a", "1"), "a-v1")
        self.assertEqual(cache.get_model("a", "latest"), "a-v3")
        self.assertEqual(cache.describe()["models"],
                         [{"name": "a", "versions": [1, 3], "latest": 3, "loaded": [1, 3]}])

    def test_single_model_needs_no_name_and_unversioned_folders_work(self):
        self.write("m/model.txt", "plain")
        cache = ModelCache({"paths": [{"name": "m", "path": os.path.join(self.root, "m")}]})
        cache.attach(Recorder())
        self.assertEqual(cache.get_model(), "plain")
        self.assertEqual(cache.describe()["models"][0]["latest"], 0)

    def test_new_version_is_taken_once_stable_and_loaded_before_it_is_served(self):
        self.zoo("a")
        recorder = Recorder()
        cache = self.cache(2, recorder)
        self.assertEqual(cache.get_model("a"), "a-v1")
        self.write("zoo/a/2/model.txt", "a-v2")
        cache.refresh()  # first seen: not served yet
        self.assertEqual(cache.get_model("a"), "a-v1")
        cache.refresh()  # unchanged since: loaded, then served; version 1 is dropped
        self.assertEqual(recorder.calls[-2:], [("load", "a", 2), ("unload", "a", 1)])
        self.assertEqual(cache.get_model("a"), "a-v2")
        self.assertEqual(cache.get_model("a", 1), "a-v1")  # still there on disk

    def test_switch_with_room_for_one_model_loads_nothing_twice(self):
        self.zoo("a")
        recorder = Recorder()
        cache = self.cache(1, recorder)
        cache.get_model("a")
        self.write("zoo/a/2/model.txt", "a-v2")
        cache.refresh()
        cache.refresh()
        self.assertEqual(cache.get_model("a"), "a-v2")
        self.assertEqual(recorder.calls, [("load", "a", 1), ("load", "a", 2), ("unload", "a", 1)])

    def test_switched_version_asked_for_by_number_is_not_loaded_again(self):
        self.zoo("a")
        recorder = Recorder()
        cache = self.cache(2, recorder)
        cache.get_model("a")
        self.write("zoo/a/2/model.txt", "a-v2")
        cache.refresh()
        cache.refresh()  # accepted: in use, so it is switched to (loaded once)
        self.assertEqual(cache.get_model("a", 2), "a-v2")
        self.assertEqual(recorder.calls.count(("load", "a", 2)), 1)

    def test_failed_new_version_keeps_the_old_one_served(self):
        self.zoo("a")

        class FailsOnTwo(Recorder):
            def load_model(self, model_path, model_name, model_version):
                if model_version == 2:
                    self.calls.append(("failed", model_name, model_version))
                    raise ValueError("bad version 2")
                return super().load_model(model_path, model_name, model_version)

        recorder = FailsOnTwo()
        cache = self.cache(2, recorder)
        cache.get_model("a")
        self.write("zoo/a/2/model.txt", "a-v2")
        for _ in range(4):
            cache.refresh()
        self.assertEqual(cache.get_model("a"), "a-v1")
        # Tried once, not at every scan.
        self.assertEqual(recorder.calls, [("load", "a", 1), ("failed", "a", 2)])

    def test_new_version_of_an_unloaded_model_is_not_loaded_early(self):
        self.zoo("a")
        recorder = Recorder()
        cache = self.cache(2, recorder)
        self.write("zoo/a/2/model.txt", "a-v2")
        cache.refresh()
        cache.refresh()
        self.assertEqual(recorder.calls, [])
        self.assertEqual(cache.get_model("a"), "a-v2")

    def test_new_and_removed_models_in_dir(self):
        self.zoo("a")
        cache = self.cache(2)
        self.zoo("b")
        cache.refresh()
        self.assertEqual(cache.models, ["a"])
        cache.refresh()
        self.assertEqual(cache.models, ["a", "b"])
        cache.get_model("b")
        shutil.rmtree(os.path.join(self.root, "zoo", "b"))
        cache.refresh()
        self.assertEqual(cache.models, ["a"])
        self.assertEqual(cache.describe()["loaded"], [])

    def test_concurrent_requests_load_a_model_once(self):
        self.zoo("a")
        started = threading.Event()
        release = threading.Event()

        class Slow(Recorder):
            def load_model(self, model_path, model_name, model_version):
                started.set()
                release.wait(10)
                return super().load_model(model_path, model_name, model_version)

        recorder = Slow()
        cache = self.cache(1, recorder)
        results = []
        threads = [threading.Thread(target=lambda: results.append(cache.get_model("a")))
                   for _ in range(4)]
        for t in threads:
            t.start()
        started.wait(10)
        release.set()
        for t in threads:
            t.join(10)
        self.assertEqual(results, ["a-v1"] * 4)
        self.assertEqual(recorder.calls, [("load", "a", 1)])

    def test_publishes_its_state(self):
        self.zoo("a")
        cache = self.cache(3, disk_cache_size=5)
        cache.get_model("a")
        import json
        last = json.loads(self.published[-1])
        self.assertEqual(last["cache_size"], 3)
        self.assertEqual(last["disk_cache_size"], 5)
        self.assertEqual(last["replica"], "r1")
        self.assertEqual(last["loaded"], [{"name": "a", "version": 1}])

    def test_watcher_thread_stops(self):
        self.zoo("a")
        cache = self.cache(1)
        model_cache.POLL_SECONDS = 0.01
        try:
            cache.start()
            cache.close()
        finally:
            model_cache.POLL_SECONDS = 1.0


if __name__ == "__main__":
    unittest.main()
