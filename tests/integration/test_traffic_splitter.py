"""TrafficSplitter: requests split by weight over real replicas of several APIs, a shadow API
that receives copies (and, slow or failing, neither slows nor fails the primary), weight changes
by redeploy, `axon get`, and the deploy and delete checks."""
import json
import textwrap

from conftest import wait_for

ANSWER = """\
class PythonPredictor:
    def __init__(self, config):
        self.name = config["name"]

    def predict(self, payload):
        return {"api": self.name, "i": payload["i"]}
"""

# Appends every payload it receives to a file, then (optionally) sleeps and fails.
SHADOW = """\
import json
import time


class PythonPredictor:
    def __init__(self, config):
        self.log = config["log"]
        self.sleep = config.get("sleep", 0)
        self.fail = config.get("fail", False)

    def predict(self, payload):
        with open(self.log, "a") as f:
            f.write(json.dumps(payload) + "\\n")
        time.sleep(self.sleep)
        if self.fail:
            raise RuntimeError("the shadow fails on purpose")
        return {"api": "shadow"}
"""


def write_apis(platform, split_yaml, shadow_config=""):
    """Writes a, b and shadow (RealtimeAPIs) and the splitter `split` into one spec file."""
    folder = platform.work_dir / "split"
    folder.mkdir(exist_ok=True)
    (folder / "answer.py").write_text(ANSWER)
    (folder / "shadow.py").write_text(SHADOW)
    log = platform.work_dir / "shadow.log"
    spec = folder / "axon.yaml"
    spec.write_text(textwrap.dedent(f"""\
        - name: a
          kind: RealtimeAPI
          predictor: {{type: python, path: answer.py, config: {{name: a}}}}
        - name: b
          kind: RealtimeAPI
          predictor: {{type: python, path: answer.py, config: {{name: b}}}}
        - name: shadow
          kind: RealtimeAPI
          predictor:
            type: python
            path: shadow.py
            config: {{log: "{log}"{shadow_config}}}
        - name: split
          kind: TrafficSplitter
          networking: {{endpoint: /predict}}
        """) + textwrap.indent(textwrap.dedent(split_yaml), "  "))
    return spec, log


def deploy_and_wait(platform, spec):
    platform.deploy(spec)
    for name in ("a", "b", "shadow"):
        platform.wait_live(name)
    platform.wait_routed("split")
    # Every replica is in the gateway's table (live can come a moment before the push).
    wait_for(lambda: all(platform.gateway_stats()[n]["replica_in_flight"]
                         for n in ("a", "b", "shadow")), timeout=10, message="replicas routed")


def split_counts(platform, n, start=0):
    counts = {}
    for i in range(start, start + n):
        res = platform.predict("/predict", {"i": i})
        assert res.status_code == 200, res.text
        assert res.json()["i"] == i
        counts[res.json()["api"]] = counts.get(res.json()["api"], 0) + 1
    return counts


def shadow_payloads(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_weights_split_requests_and_the_shadow_gets_a_copy_of_each(platform):
    spec, log = write_apis(platform, """\
        apis:
          - {name: a, weight: 80}
          - {name: b, weight: 20}
          - {name: shadow, shadow: true}
        """)
    deploy_and_wait(platform, spec)
    # The split follows a fixed schedule: exactly 80 of every 100 requests go to a.
    assert split_counts(platform, 200) == {"a": 160, "b": 40}
    wait_for(lambda: len(shadow_payloads(log)) == 200, timeout=20,
             message="the shadow to receive every request")
    assert sorted(p["i"] for p in shadow_payloads(log)) == list(range(200))

    # Each API's statistics are its own; the splitter counts every request it routed.
    stats = {api["name"]: api for api in platform.management("GET", "/v1/apis").json()}
    assert stats["a"]["requests_2xx"] == 160
    assert stats["b"]["requests_2xx"] == 40
    wait_for(lambda: platform.describe("shadow")["requests_2xx"] == 200, timeout=10,
             message="the shadow's answers to be counted")
    assert stats["split"]["requests_2xx"] == 200
    assert stats["split"]["kind"] == "TrafficSplitter"
    assert stats["split"]["status"] == "live"
    assert stats["split"]["apis"] == [{"name": "a", "weight": 80, "shadow": False},
                                      {"name": "b", "weight": 20, "shadow": False},
                                      {"name": "shadow", "weight": 100, "shadow": True}]

    table = platform.axon_ok("get")
    assert "traffic splitter" in table and "a:80 b:20 shadow (shadow):100" in table
    one = platform.axon_ok("get", "split")
    rows = {line.split()[0]: line.split() for line in one.splitlines() if line.strip()}
    assert rows["a"][1] == "80" and rows["b"][1] == "20"

    # Changing the weights is a deploy: all of the next requests go to b.
    spec.write_text(spec.read_text().replace("weight: 80", "weight: 0")
                    .replace("weight: 20", "weight: 100"))
    out = platform.deploy(spec)
    assert "updated api split" in out and "unchanged api a" in out
    wait_for(lambda: platform.predict("/predict", {"i": -1}).json()["api"] == "b", timeout=10,
             message="the new weights in the gateway")
    assert split_counts(platform, 30, start=1000) == {"b": 30}


def test_a_slow_failing_shadow_neither_slows_nor_fails_the_primary(platform):
    spec, log = write_apis(platform, """\
        apis:
          - {name: a, weight: 50}
          - {name: b, weight: 50}
          - {name: shadow, shadow: true, weight: 50}
        """, shadow_config=", sleep: 3, fail: true")
    deploy_and_wait(platform, spec)
    assert split_counts(platform, 20) == {"a": 10, "b": 10}
    # The shadow runs one copy at a time, 3 s each: had the primary waited for it, the shadow
    # would have answered every copy by now.
    assert platform.describe("shadow")["requests_5xx"] < 10
    wait_for(lambda: len(shadow_payloads(log)) >= 2, timeout=20,
             message="the shadow to receive copies")
    assert all(p["i"] % 2 == 1 for p in shadow_payloads(log))  # weight 50: every 2nd request
    assert platform.describe("split")["requests_5xx"] == 0


def test_deploy_and_delete_checks(platform):
    folder = platform.work_dir / "lonely"
    folder.mkdir()
    lonely = folder / "axon.yaml"
    lonely.write_text("name: split\nkind: TrafficSplitter\napis:\n"
                      "  - {name: a, weight: 60}\n  - {name: nowhere, weight: 40}\n")
    result = platform.axon("deploy", lonely)
    assert result.returncode == 2, result.stdout + result.stderr
    assert ('axon.yaml:4: api "split": apis[0].name: no api named "a" is deployed or declared '
            "in this file; deploy it first, or add it to this file") in result.stderr

    lonely.write_text("name: split\nkind: TrafficSplitter\napis:\n  - {name: a, weight: 60}\n")
    result = platform.axon("deploy", lonely)
    assert result.returncode == 2
    assert ('axon.yaml:3: api "split": apis: the weights of the APIs that are not the shadow '
            "must sum to 100, got 60 (a: 60)") in result.stderr

    spec, _ = write_apis(platform, "apis: [{name: a, weight: 100}]\n")
    platform.deploy(spec)
    platform.wait_live("a")
    result = platform.axon("delete", "a")
    assert result.returncode != 0
    assert ("api a receives requests from traffic splitter split; remove it from split's apis "
            "(axon deploy) or delete split first") in result.stderr
    assert platform.describe("a")["status"] == "live"

    # A splitter cannot become a RealtimeAPI in place.
    realtime = folder / "realtime.yaml"
    (folder / "answer.py").write_text(ANSWER)
    realtime.write_text("name: split\nkind: RealtimeAPI\n"
                        "predictor: {type: python, path: answer.py, config: {name: x}}\n")
    result = platform.axon("deploy", realtime)
    assert result.returncode != 0
    assert ('api "split": kind: api "split" is deployed as a TrafficSplitter; delete it (axon '
            "delete split) before deploying a RealtimeAPI of that name") in result.stderr

    result = platform.axon("refresh", "split")
    assert result.returncode != 0 and "is a TrafficSplitter and runs no replicas" in result.stderr
    result = platform.axon("keys", "create", "split")
    assert result.returncode != 0 and "needs a key of the API it is sent to" in result.stderr

    platform.axon_ok("delete", "split")
    platform.axon_ok("delete", "a")
