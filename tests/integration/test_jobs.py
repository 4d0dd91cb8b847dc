"""BatchAPI and TaskAPI: jobs submitted through the gateway and run by workers (replicas of the
API, as many as the job asks for). A batch job splits its items (a list, or JSON lines files
beside the spec) into batches, runs each at least once, retries a failing batch up to
queue.max_attempts and ends `succeeded` or `completed_with_failures`; a task job runs
Task.__call__ once. Bad submissions are 400 naming the field; a job can be stopped; a killed
worker or a killed operator loses no batch; a task that raises or outlasts its timeout ends
`worker_error` or `timed_out`; the CLI lists jobs, shows one and prints its log; the spec's
errors."""
import json
import os
import re
import signal

from conftest import pid_alive, wait_for

# Records every batch it runs as out/batch-<random>.json ({batch_id, items, job_spec, pid}),
# written whole (renamed into place). The job's config (merged over the spec's) steers it:
# `hold` (a path): the first run to create it writes its pid there and sleeps (until killed, at
# most 60 s) before recording; `sleep`: seconds per batch; `fail_on`: a batch that holds this
# item raises after it is recorded. on_job_complete appends the job id to out/complete.
PREDICTOR = """\
import json
import os
import time
import uuid


class BatchPredictor:
    def __init__(self, config, job_spec):
        self.config = config
        self.job_spec = job_spec
        self.out = config["out"]

    def predict(self, payload, batch_id):
        hold = self.config.get("hold")
        if hold:
            try:
                fd = os.open(hold, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                time.sleep(60)
        time.sleep(self.config.get("sleep", 0))
        record = {"batch_id": batch_id, "items": payload, "job_spec": self.job_spec,
                  "pid": os.getpid()}
        path = os.path.join(self.out, "batch-" + uuid.uuid4().hex + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        print("job", self.job_spec["job_id"], "batch", batch_id, "of", len(payload), "items",
              flush=True)
        if "fail_on" in self.config and self.config["fail_on"] in payload:
            raise ValueError("cannot take item " + str(self.config["fail_on"]))

    def on_job_complete(self):
        with open(os.path.join(self.out, "complete"), "a") as f:
            f.write(self.job_spec["job_id"] + "\\n")
"""

# Writes its config to out/<name>.json; `fail` raises with that text; `sleep`: seconds first.
TASK = """\
import json
import os
import time


class Task:
    def __call__(self, config):
        if config.get("fail"):
            raise RuntimeError("task refused: " + config["fail"])
        time.sleep(config.get("sleep", 0))
        with open(os.path.join(config["out"], config["name"] + ".json"), "w") as f:
            json.dump(config, f)
"""

ENDED = ("succeeded", "completed_with_failures", "worker_error", "timed_out", "stopped",
         "enqueue_failed", "unexpected_error")


def write_job_api(platform, name, kind="BatchAPI", code=None, extra=""):
    """Writes WORK/NAME/{axon.yaml, predictor.py, task.py} and an empty out/; returns
    (spec, out). `code` replaces the predictor (BatchAPI) or definition (TaskAPI) section."""
    folder = platform.work_dir / name
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    (folder / "predictor.py").write_text(PREDICTOR)
    (folder / "task.py").write_text(TASK)
    config = json.dumps({"out": str(out)})
    if code is None:
        code = (f"predictor:\n  type: python\n  path: predictor.py\n  config: {config}\n"
                if kind == "BatchAPI" else f"definition:\n  path: task.py\n  config: {config}\n")
    spec = folder / "axon.yaml"
    spec.write_text(f"name: {name}\nkind: {kind}\n{code}{extra}")
    return spec, out


def deploy_jobs(platform, name, kind="BatchAPI", extra="", files=None):
    """Deploys a job API (with `files`, {path: text}, beside its spec: they are in its snapshot)
    and waits until it is live and its endpoint lists jobs; returns (endpoint, out)."""
    spec, out = write_job_api(platform, name, kind, extra=extra)
    for path, text in (files or {}).items():
        (spec.parent / path).parent.mkdir(parents=True, exist_ok=True)
        (spec.parent / path).write_text(text)
    platform.deploy(spec)
    platform.wait_status(name, "live")
    endpoint = f"/{name}"
    wait_for(lambda: platform.predict(endpoint, method="GET").status_code == 200,
             message=f"{endpoint} to list jobs")
    return endpoint, out


def submit(platform, endpoint, body):
    res = platform.predict(endpoint, body)
    assert res.status_code == 200, res.text
    job = res.json()
    assert re.fullmatch(r"[0-9a-f]{16}", job["job_id"]), job
    assert job["status"] in ("enqueuing", "running"), job
    return job["job_id"]


def job_status(platform, endpoint, job_id):
    """GET ?jobID=; None while the operator cannot answer (503)."""
    res = platform.predict(endpoint, method="GET", params={"jobID": job_id})
    if res.status_code == 503:
        return None
    assert res.status_code == 200, res.text
    return res.json()


def wait_ended(platform, endpoint, job_id, timeout=90):
    return wait_for(lambda: (s := job_status(platform, endpoint, job_id)) and
                    s["status"] in ENDED and s, timeout=timeout, interval=0.2,
                    message=f"job {job_id} to end")


def batch_job(platform, endpoint, items, batch_size, workers=1, **config):
    return submit(platform, endpoint, {"workers": workers, "config": config,
                                       "item_list": {"items": items, "batch_size": batch_size}})


def records(out):
    return [json.loads(p.read_text()) for p in out.glob("batch-*.json")]


def batches(out):
    """{batch_id: items} over every recorded run."""
    return {str(r["batch_id"]): r["items"] for r in records(out)}


def assert_succeeded(job, total_batches):
    assert job["status"] == "succeeded", job
    assert job["total_batches"] == total_batches, job
    assert job["batches_in_queue"] == 0, job
    assert job["metrics"]["succeeded"] == total_batches, job
    assert job["metrics"]["failed"] == 0, job
    assert job.get("failed_batches", []) == [], job


def workers(platform, name, job_id):
    """The job's workers now, from the management API."""
    res = platform.management("GET", f"/v1/apis/{name}/jobs/{job_id}")
    assert res.status_code == 200, res.text
    return res.json()["replicas"]


def wait_held(platform, name, job_id, hold):
    """Waits until a worker holds a batch (wrote `hold`); returns its pid, checked to be one of
    the job's workers."""
    pid = int(wait_for(lambda: hold.exists() and hold.read_text(), timeout=30,
                       message="a worker to hold a batch"))
    assert pid in [r["pid"] for r in workers(platform, name, job_id)]
    return pid


def wait_workers_gone(platform, name, job_id, pids):
    wait_for(lambda: workers(platform, name, job_id) == [] and
             not any(pid_alive(p) for p in pids), timeout=30,
             message=f"the workers of job {job_id} to exit")


def test_a_batch_job_runs_every_item_and_completes_once(platform):
    endpoint, out = deploy_jobs(platform, "summer")
    job_id = batch_job(platform, endpoint, list(range(20)), batch_size=3, workers=2)
    job = wait_ended(platform, endpoint, job_id)
    assert_succeeded(job, 7)
    assert job["job_id"] == job_id and job["api_name"] == "summer" and job["workers"] == 2
    assert isinstance(job["metrics"]["avg_time_per_batch"], (int, float)), job
    assert job["created_time"].endswith("Z") and job["end_time"] >= job["created_time"]

    runs = records(out)
    assert {r["job_spec"]["job_id"] for r in runs} == {job_id}
    assert {r["job_spec"]["api_name"] for r in runs} == {"summer"}
    assert len({r["pid"] for r in runs}) <= 2
    by_batch = batches(out)
    assert len(by_batch) == 7 and all(len(items) <= 3 for items in by_batch.values())
    assert sorted(sum(by_batch.values(), [])) == list(range(20))
    assert (out / "complete").read_text() == job_id + "\n"

    # The other ways to read it.
    assert platform.predict(f"{endpoint}/{job_id}", method="GET").json()["status"] == "succeeded"
    listing = platform.predict(endpoint, method="GET").json()["jobs"]
    assert [j["job_id"] for j in listing] == [job_id]


def test_a_failing_batch_is_retried_then_counted_failed(platform):
    endpoint, out = deploy_jobs(platform, "picky", extra="queue:\n  max_attempts: 2\n")
    job_id = batch_job(platform, endpoint, list(range(6)), batch_size=2, fail_on=3)
    job = wait_ended(platform, endpoint, job_id)
    assert job["status"] == "completed_with_failures", job
    assert job["metrics"]["succeeded"] == 2 and job["metrics"]["failed"] == 1, job
    assert job["batches_in_queue"] == 0, job

    failing = [r for r in records(out) if 3 in r["items"]]
    assert len(failing) == 2, failing  # max_attempts runs, no more
    [failed] = job["failed_batches"]
    assert str(failed["batch_id"]) == str(failing[0]["batch_id"])
    assert "cannot take item 3" in failed["error"], failed
    for leak in ("Traceback", "\n", str(platform.work_dir), str(platform.home)):
        assert leak not in failed["error"], failed
    assert "completed with failures" in platform.axon_ok("get", "picky", job_id)


def test_delimited_files_beside_the_spec(platform):
    lines = {f"data/{name}.jsonl": "".join(json.dumps({"n": n}) + "\n" for n in numbers)
             for name, numbers in (("a", range(4)), ("b", range(4, 7)))}
    endpoint, out = deploy_jobs(platform, "lines", files=lines)
    job_id = submit(platform, endpoint, {"delimited_files": {
        "paths": ["data/a.jsonl", "data/b.jsonl"], "batch_size": 2}})
    assert_succeeded(wait_ended(platform, endpoint, job_id), 4)
    items = sum(batches(out).values(), [])
    assert sorted(item["n"] for item in items) == list(range(7))


def test_bad_submissions_are_400_naming_the_field(platform):
    endpoint, _ = deploy_jobs(platform, "strict")
    bad = [
        ({"workers": 1}, "item_list"),
        ({"item_list": {"items": [1, 2], "batch_size": 0}}, "batch_size"),
        ({"workers": 0, "item_list": {"items": [1, 2]}}, "workers"),
        ({"item_list": {"items": "1, 2"}}, "items"),
        ("{not json", ""),
    ]
    for body, field in bad:
        res = platform.predict(endpoint, body)
        assert res.status_code == 400, (body, res.text)
        error = res.json()["error"]
        assert error and field in error, (body, error)
    assert platform.predict(endpoint, method="GET").json()["jobs"] == []

    missing = platform.predict(endpoint, method="GET", params={"jobID": "0123456789abcdef"})
    assert missing.status_code == 404, missing.text
    assert platform.predict(f"{endpoint}/0123456789abcdef", method="GET").status_code == 404


def test_a_stopped_job_stops_its_workers(platform):
    endpoint, out = deploy_jobs(platform, "slow")
    hold = out / "held.pid"
    job_id = batch_job(platform, endpoint, list(range(4)), batch_size=1, workers=2,
                       hold=str(hold), sleep=5)
    held = wait_held(platform, "slow", job_id, hold)
    pids = [r["pid"] for r in workers(platform, "slow", job_id) if r["pid"]]

    res = platform.predict(endpoint, method="DELETE", params={"jobID": job_id})
    assert res.status_code == 200, res.text
    assert res.json() == {"message": f"stopped job {job_id}", "status": "stopped"}
    assert job_status(platform, endpoint, job_id)["status"] == "stopped"
    wait_workers_gone(platform, "slow", job_id, pids + [held])
    assert not (out / "complete").exists()

    again = platform.predict(f"{endpoint}/{job_id}", method="DELETE")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "stopped"
    assert "had already ended (stopped)" in again.json()["message"]


def test_a_killed_worker_loses_no_batch(platform):
    endpoint, out = deploy_jobs(platform, "sturdy")
    hold = out / "held.pid"
    job_id = batch_job(platform, endpoint, list(range(6)), batch_size=1, hold=str(hold))
    killed = wait_held(platform, "sturdy", job_id, hold)
    os.kill(killed, signal.SIGKILL)
    job = wait_ended(platform, endpoint, job_id)
    assert_succeeded(job, 6)
    by_batch = batches(out)
    assert sorted(sum(by_batch.values(), [])) == list(range(6))
    assert killed not in {r["pid"] for r in records(out)}  # it never finished a batch


def test_a_killed_operator_loses_no_batch(platform):
    endpoint, out = deploy_jobs(platform, "steady")
    job_id = batch_job(platform, endpoint, list(range(12)), batch_size=1, workers=2, sleep=0.3)
    wait_for(lambda: len(records(out)) >= 2, timeout=30, message="the job to be under way")
    operator_pid = int((platform.home / "run" / "operator.pid").read_text())
    os.kill(operator_pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(operator_pid), timeout=10, message="the operator to die")
    assert platform.up().returncode == 0

    assert_succeeded(wait_ended(platform, endpoint, job_id), 12)
    assert sorted(sum(batches(out).values(), [])) == list(range(12))
    assert (out / "complete").read_text() == job_id + "\n"


def test_task_jobs_succeed_raise_or_time_out(platform):
    endpoint, out = deploy_jobs(platform, "report", kind="TaskAPI")
    merged = submit(platform, endpoint, {"config": {"name": "merged", "extra": [1, 2]}})
    failing = submit(platform, endpoint, {"config": {"name": "x", "fail": "on purpose"}})
    sleeping = submit(platform, endpoint, {"config": {"name": "late", "sleep": 60},
                                           "timeout": 2})

    job = wait_ended(platform, endpoint, merged)
    assert job["status"] == "succeeded", job
    assert json.loads((out / "merged.json").read_text()) == {
        "out": str(out), "name": "merged", "extra": [1, 2]}

    job = wait_ended(platform, endpoint, failing)
    assert job["status"] == "worker_error", job
    assert "task refused: on purpose" in job["error"] and "Traceback" not in job["error"], job

    job = wait_ended(platform, endpoint, sleeping)
    assert job["status"] == "timed_out" and job["timeout"] == 2, job
    assert not (out / "late.json").exists()
    wait_workers_gone(platform, "report", sleeping, [])


def test_cli_lists_jobs_shows_one_and_prints_its_log(platform):
    endpoint, _ = deploy_jobs(platform, "shown")
    first = batch_job(platform, endpoint, [1, 2, 3, 4], batch_size=2)
    second = batch_job(platform, endpoint, [5], batch_size=1)
    for job_id in (first, second):
        assert_succeeded(wait_ended(platform, endpoint, job_id), 2 if job_id == first else 1)

    listing = platform.axon_ok("get", "shown").splitlines()
    for job_id in (first, second):
        [line] = [line for line in listing if job_id in line]
        assert "succeeded" in line, listing
    assert "succeeded" in platform.axon_ok("get", "shown", first)
    shown = json.loads(platform.axon_ok("get", "shown", first, "-o", "json"))
    assert shown["job_id"] == first and shown["status"] == "succeeded", shown

    logs = wait_for(lambda: (text := platform.axon_ok("logs", "shown", first)) and
                    f"job {first} batch" in text and text, timeout=10,
                    message="the predictor's line in the job's log")
    assert f"job {second} batch" not in logs
    described = platform.axon_ok("describe", "shown")
    assert first in described and second in described, described  # its recent jobs


def test_spec_errors(platform):
    autoscaling = write_job_api(platform, "a1", extra="autoscaling:\n  min_replicas: 1\n")[0]
    predictor = write_job_api(platform, "t1", kind="TaskAPI",
                              extra="predictor:\n  type: python\n  path: task.py\n")[0]
    onnx = write_job_api(platform, "o1",
                         code="predictor:\n  type: onnx\n  model_path: predictor.py\n")[0]
    for spec, field in ((autoscaling, "autoscaling"), (predictor, "predictor"),
                        (onnx, "predictor.type")):
        result = platform.axon("deploy", "--no-wait", spec)
        assert result.returncode != 0, result.stdout
        output = result.stdout + result.stderr
        assert f": {field}:" in output, output
    assert platform.management("GET", "/v1/apis").json() == []  # nothing was deployed
