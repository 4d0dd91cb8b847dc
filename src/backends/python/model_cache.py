# Axon's model cache for a Python predictor that serves many models (predictor.models as a
# mapping: paths, dir, cache_size). Embedded into axon-replica at build time beside glue.py; it
# needs nothing from Axon, so its tests import it as a plain module.
#
# A ModelCache is the `model_client` that PythonPredictor.__init__ receives. get_model(name,
# version) returns the object the predictor's load_model(model_path) made, loading it on first
# use; at most cache_size models stay loaded (least recently used first out, through the
# predictor's unload_model() when it has one). A watcher thread rescans the model folders every
# POLL_SECONDS: a new numbered version folder is loaded in the background and then served by
# default, so requests never wait for nor fail on a switch.
#
# Threading: get_model() may be called from any number of threads at once. One lock guards
# all state; load_model() and unload_model() run outside it, and one model version is loaded
# by one thread at a time (others asking for it wait). The folder scans run on the watcher
# thread only.
import inspect
import json
import os
import sys
import threading
import traceback
from collections import OrderedDict

POLL_SECONDS = 1.0


class ModelError(Exception):
    """Why a request's model cannot be served; status_code is the HTTP status of the answer
    (the glue answers exceptions that carry one with that status and message)."""

    def __init__(self, status_code, message):
        super().__init__(message)
        self.status_code = status_code


class SetupError(Exception):
    """A user-facing reason why the predictor cannot serve its models."""


def _version_number(name):
    return int(name) if name.isdigit() and len(name) <= 18 else None


def scan_model(path):
    """{version: path} of the model at `path`: its numbered version folders, or {0: path} when
    it has none (a single file, or a folder that is the model); {} when it is gone."""
    if os.path.isfile(path):
        return {0: path}
    try:
        entries = list(os.scandir(path))
    except OSError:
        return {}
    versions = {}
    for entry in entries:
        number = _version_number(entry.name)
        if number is not None and entry.is_dir():
            versions[number] = entry.path
    return versions or {0: path}


def _fingerprint(path):
    """What changes while a version folder is still being written: names, sizes, mtimes."""
    if os.path.isfile(path):
        st = os.stat(path)
        return (("", st.st_size, st.st_mtime_ns),)
    out = []
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            out.append((os.path.relpath(full, path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def _hook(instance, method, required, allowed):
    """(bound method, names of the parameters Axon fills) for the predictor's hook `method`."""
    fn = getattr(instance, method, None)
    if not callable(fn):
        return None, ()
    names = []
    for name, p in inspect.signature(fn).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in allowed:
            names.append(name)
        elif p.default is p.empty:
            raise SetupError(f"PythonPredictor.{method} has a parameter '{name}' that Axon cannot "
                             f"fill; it may name: {', '.join(allowed)}")
    if required not in names:
        raise SetupError(f"PythonPredictor.{method} must take a parameter named '{required}'")
    return fn, tuple(names)


def _describe(exc):
    return f"{type(exc).__name__}: {exc}"


class ModelCache:
    def __init__(self, spec, publish=None, replica=None):
        """`spec`: {"paths": [{"name", "path"}], "dir", "cache_size", "disk_cache_size"} with
        absolute paths (cache_size 0: no limit). `publish(text)` receives the JSON of
        describe() whenever it changes. `replica`: its id for describe(), by default
        $AXON_REPLICA_ID."""
        if replica is None:
            replica = os.environ.get("AXON_REPLICA_ID", "")
        self._paths = {p["name"]: p["path"] for p in spec.get("paths", [])}
        self._dir = spec.get("dir", "")
        self._capacity = spec.get("cache_size", 0) or 0
        self._disk_cache_size = spec.get("disk_cache_size", 0) or 0
        self._publish_fn = publish
        self._replica = replica
        self._lock = threading.Condition()
        self._known = {}       # name -> {version: path}, versions that may be served
        self._latest = {}      # name -> the version served when none is asked for
        self._pending = {}     # (name, version) -> fingerprint of a version seen once
        self._failed = {}      # (name, version) -> fingerprint whose background load failed
        self._loaded = OrderedDict()  # (name, version) -> model, least recently used first
        self._loading = set()  # (name, version) being loaded by some thread
        self._load_fn = None
        self._load_args = ()
        self._unload_fn = None
        self._unload_args = ()
        self._stop = threading.Event()
        self._watcher = None
        found = self._scan()
        for name, versions in found.items():
            self._known[name] = versions
            self._latest[name] = max(versions)
        self._publish()

    # --- Set-up ------------------------------------------------------------------------------

    def attach(self, instance):
        """Takes the predictor's load_model(model_path[, model_name, model_version]) and, if it
        has one, unload_model(model[, model_name, model_version])."""
        fields = ("model_path", "model_name", "model_version")
        self._load_fn, self._load_args = _hook(instance, "load_model", "model_path", fields)
        if self._load_fn is None:
            raise SetupError("the spec lists predictor.models with paths or dir, so "
                             "PythonPredictor must define load_model(self, model_path), which "
                             "returns the loaded model that get_model() then hands out")
        self._unload_fn, self._unload_args = _hook(
            instance, "unload_model", "model", ("model", "model_name", "model_version"))

    def start(self):
        """Starts watching the model folders."""
        self._watcher = threading.Thread(target=self._watch, name="axon-model-watcher",
                                         daemon=True)
        self._watcher.start()

    def close(self):
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()

    # --- The predictor's side ----------------------------------------------------------------

    @property
    def models(self):
        """The names of the models this API serves."""
        with self._lock:
            return sorted(self._known)

    def get_model(self, model_name=None, model_version=None):
        """The model `model_name` (optional when the API has one model) in `model_version` (a
        number, or None / "latest" for the highest), loaded on first use. Raises ModelError
        (404 for an unknown model or version, 400 for a malformed version, 500 when loading
        failed)."""
        with self._lock:
            while True:  # chosen again after a wait: the folders may have changed meanwhile
                name = self._pick_name(model_name)
                version = self._pick_version(name, model_version)
                key = (name, version)
                if key not in self._loading:
                    break
                self._lock.wait()
            if key in self._loaded:
                if next(reversed(self._loaded)) != key:  # the order changed: say so
                    self._loaded.move_to_end(key)
                    self._publish()
                return self._loaded[key]
            path = self._known[name][version]
            self._loading.add(key)
        return self._load(key, path)

    def describe(self):
        """The models, their versions, and what is loaded (least recently used first)."""
        with self._lock:
            return self._describe()

    # --- Inside ------------------------------------------------------------------------------

    def _pick_name(self, model_name):
        if model_name is None or model_name == "":
            if len(self._known) == 1:
                return next(iter(self._known))
            raise ModelError(400, "name a model: this API serves several (" +
                             ", ".join(sorted(self._known)) + "); ask for one with ?model=NAME")
        if not isinstance(model_name, str) or model_name not in self._known:
            served = ", ".join(sorted(self._known)) or "none yet"
            raise ModelError(404, f"no model named {json.dumps(str(model_name))}; this API "
                                  f"serves: {served}")
        return model_name

    def _pick_version(self, name, model_version):
        if model_version is None or model_version in ("", "latest"):
            return self._latest[name]
        number = model_version
        if isinstance(model_version, str):
            number = _version_number(model_version)
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ModelError(400, f"a model version is a whole number >= 1, such as 2, got "
                                  f"{json.dumps(str(model_version))}")
        versions = self._known[name]
        if number not in versions:
            have = ", ".join(str(v) for v in sorted(versions) if v > 0)
            raise ModelError(404, f"model \"{name}\" has no version {number}; " +
                             (f"versions: {have}" if have else "it has no numbered versions"))
        return number

    def _load(self, key, path, replaces=None):
        """Loads `key` (which the caller marked as loading) and caches it. With `replaces` (a
        version of the same model), the new version is also served by default from then on
        and `replaces` leaves the cache, in the same step, so no request misses both."""
        name, version = key
        values = {"model_path": path, "model_name": name, "model_version": version}
        try:
            model = self._load_fn(**{n: values[n] for n in self._load_args})
        except Exception as e:
            print(f"load_model() for model {name} version {version} raised {_describe(e)}\n"
                  f"{traceback.format_exc()}", file=sys.stderr, flush=True)
            with self._lock:
                self._loading.discard(key)
                self._lock.notify_all()
            raise ModelError(500, f"loading model \"{name}\" version {version} failed: "
                                  f"{_describe(e)}") from None
        with self._lock:
            self._loading.discard(key)
            self._loaded[key] = model
            self._loaded.move_to_end(key)
            evicted = [] if replaces is None else self._promote(name, replaces, version)
            while self._capacity and len(self._loaded) > self._capacity:
                evicted.append(self._loaded.popitem(last=False))
            self._publish()
            self._lock.notify_all()
        self._unload(evicted)
        return model

    def _unload(self, entries):
        """Calls unload_model() for evicted (key, model) pairs; never raises."""
        for (name, version), model in entries:
            if self._unload_fn is None:
                continue
            values = {"model": model, "model_name": name, "model_version": version}
            try:
                self._unload_fn(**{n: values[n] for n in self._unload_args})
            except Exception as e:
                print(f"unload_model() for model {name} version {version} raised "
                      f"{_describe(e)}\n{traceback.format_exc()}", file=sys.stderr, flush=True)

    def _scan(self):
        """name -> {version: path} on disk: the paths entries, then the folders of dir (paths
        win over a folder of the same name)."""
        found = {}
        if self._dir:
            try:
                entries = sorted(os.scandir(self._dir), key=lambda e: e.name)
            except OSError:
                entries = []
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                versions = scan_model(entry.path)
                if versions:
                    found[entry.name] = versions
        for name, path in self._paths.items():
            versions = scan_model(path)
            if versions:
                found[name] = versions
            else:
                found.pop(name, None)
        return found

    def _watch(self):
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh()
            except Exception as e:
                print(f"watching the model folders failed: {_describe(e)}\n"
                      f"{traceback.format_exc()}", file=sys.stderr, flush=True)

    def refresh(self):
        """One scan of the model folders (the watcher's work; tests call it directly). A version
        seen for the first time is taken at the next scan if its files did not change in
        between; then, for a model in use, it is loaded before it is served by default."""
        found = self._scan()
        with self._lock:
            known = {name: dict(versions) for name, versions in self._known.items()}
        accepted = {}
        for name, versions in found.items():
            for version, path in versions.items():
                if version in known.get(name, {}):
                    continue
                fingerprint = _fingerprint(path)
                if self._pending.get((name, version)) == fingerprint:
                    accepted.setdefault(name, {})[version] = path
                    del self._pending[(name, version)]
                else:
                    self._pending[(name, version)] = fingerprint
        gone = [(name, version) for name, versions in known.items() for version in versions
                if version not in found.get(name, {})]
        evicted = []
        switches = []
        with self._lock:
            for name, version in gone:
                del self._known[name][version]
                if (name, version) in self._loaded:
                    evicted.append(((name, version), self._loaded.pop((name, version))))
                if not self._known[name]:
                    del self._known[name]
                    del self._latest[name]
                elif self._latest[name] == version:
                    self._latest[name] = max(self._known[name])
            for name, versions in accepted.items():
                self._known.setdefault(name, {}).update(versions)
                newest = max(self._known[name])
                current = self._latest.get(name)
                if current is None or newest <= current:
                    self._latest.setdefault(name, newest)
                elif (name, current) in self._loaded:
                    switches.append((name, current, newest))  # in use: load first
                else:
                    self._latest[name] = newest
            self._pending = {k: v for k, v in self._pending.items() if k[0] in found}
            self._publish()
        self._unload(evicted)
        for name, old, new in switches:
            self._switch(name, old, new)

    def _switch(self, name, old, new):
        """Loads version `new` of a model in use, then serves it by default and drops `old`."""
        with self._lock:
            path = self._known.get(name, {}).get(new)
            if path is None:
                return
            key = (name, new)
            while key in self._loading:
                self._lock.wait()
            if key in self._loaded:  # a request asked for it by number already
                evicted = self._promote(name, old, new)
                self._publish()
            else:
                evicted = None
                self._loading.add(key)
        if evicted is not None:
            self._unload(evicted)
            return
        fingerprint = _fingerprint(path)
        if self._failed.get(key) == fingerprint:
            with self._lock:
                self._loading.discard(key)
                self._lock.notify_all()
            return
        try:
            self._load(key, path, replaces=old)
        except ModelError:
            self._failed[key] = fingerprint  # logged; tried again when its files change

    def _promote(self, name, old, new):
        """Serves `new` by default instead of `old`; returns `old`'s cache entry, removed, for
        unloading. Call with the lock held."""
        if name not in self._latest or self._latest[name] >= new:
            return []
        self._latest[name] = new
        if (name, old) in self._loaded:
            return [((name, old), self._loaded.pop((name, old)))]
        return []

    def _describe(self):
        loaded_versions = {}
        for name, version in self._loaded:
            loaded_versions.setdefault(name, []).append(version)
        models = [{"name": name,
                   "versions": sorted(v for v in versions if v > 0),
                   "latest": self._latest[name],
                   "loaded": sorted(loaded_versions.get(name, []))}
                  for name, versions in sorted(self._known.items())]
        return {"cache_size": self._capacity, "disk_cache_size": self._disk_cache_size,
                "replica": self._replica, "models": models,
                "loaded": [{"name": n, "version": v} for n, v in self._loaded]}

    def _publish(self):
        """Hands describe() to the replica; call with the lock held."""
        if self._publish_fn is not None:
            self._publish_fn(json.dumps(self._describe()))
