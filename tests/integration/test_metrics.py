"""Prometheus metrics of a real platform: the operator's aggregated GET /metrics, the gateway's
GET /_axon/metrics and the replicas' GET /metrics. After requests with known outcomes the
counters and histogram counts move by exactly those numbers; the text parses with Debian's
prometheus_client parser; the Grafana dashboard and docs/observability.md name only metrics
the platform exports."""

import json
import re
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import HTTP_TIMEOUT, OUTCOME_PREDICTOR, write_api

ROOT = Path(__file__).resolve().parents[2]


BATCHED_PREDICTOR = """\
    class PythonPredictor:
        def predict(self, payload):
            return [{"n": len(payload)} for _ in payload]
    """


def scrape(platform, token=None):
    """The operator's GET /metrics -> (raw text, {(name, frozenset(labels)): value})."""
    res = platform.management("GET", "/metrics", token=token)
    assert res.status_code == 200, res.text
    assert res.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return res.text, samples_of(res.text)


def samples_of(text):
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"sample {key} twice"
            samples[key] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def exported_names(text):
    """The metric families the text declares (its `# TYPE` lines): {name: type}."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


@pytest.fixture
def apis(platform):
    scored = write_api(platform.work_dir / "scored", "scored", OUTCOME_PREDICTOR)
    batched = write_api(platform.work_dir / "batched", "batched", BATCHED_PREDICTOR,
                        "  server_side_batching: {max_batch_size: 4}\n")
    platform.deploy(scored)
    platform.deploy(batched)
    platform.wait_live("scored")
    platform.wait_live("batched")
    assert platform.predict_when_routed("/scored", "warm", "text/plain").status_code == 200
    assert platform.predict_when_routed("/batched", {"x": 0}).status_code == 200
    return platform


def test_counters_and_histograms_match_the_requests_sent(apis):
    platform = apis
    before_text, before = scrape(platform)
    unknown = f"/nope-{uuid.uuid4().hex}"
    for i in range(5):
        assert platform.predict("/scored", f"x{i}", "text/plain").status_code == 200
    for _ in range(3):
        assert platform.predict("/scored", "refuse", "text/plain").status_code == 400
    for _ in range(2):
        assert platform.predict(unknown, "x", "text/plain").status_code == 404
    for i in range(4):  # one at a time: batches of one
        assert platform.predict("/batched", {"x": i}).status_code == 200
    text, after = scrape(platform)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("axon_requests_total", api="scored", version="1", status="200") == 5
    assert delta("axon_requests_total", api="scored", version="1", status="400") == 3
    assert delta("axon_requests_total", api="batched", version="1", status="200") == 4
    codes = {dict(labels)["status"] for name, labels in after
             if name == "axon_requests_total" and dict(labels)["api"] == "scored"}
    assert codes <= {"200", "400", "503"}, codes  # 503s only while the replica came up
    for api, n in (("scored", 8), ("batched", 4)):
        for family in ("axon_request_duration_seconds", "axon_queue_wait_seconds"):
            assert delta(f"{family}_count", api=api) == n, (family, api)
            assert delta(f"{family}_bucket", api=api, le="+Inf") == n, (family, api)
            assert delta(f"{family}_sum", api=api) > 0 or family == "axon_queue_wait_seconds"
        assert value(after, "axon_in_flight_requests", api=api) == 0
        assert value(after, "axon_queued_requests", api=api) == 0
        assert value(after, "axon_desired_replicas", api=api) == 1
        assert value(after, "axon_replicas", api=api, state="ready") == 1
        assert value(after, "axon_replicas", api=api, state="starting") == 0

    # The replicas' own metrics, merged in with their api, version and replica labels.
    scored_replica = platform.describe("scored")["replicas"][0]["id"]
    batched_replica = platform.describe("batched")["replicas"][0]["id"]
    mine = {"api": "scored", "version": "1", "replica": scored_replica}
    assert delta("axon_predictor_errors_total", **mine, **{"class": "4xx"}) == 3
    assert delta("axon_predictor_errors_total", **mine, **{"class": "5xx"}) == 0
    assert value(after, "axon_replica_restarts_total", api="scored", replica=scored_replica) == 0
    load = ("axon_model_load_seconds", frozenset(mine.items()))
    assert load in after and 0 <= after[load] < 60
    theirs = {"api": "batched", "version": "1", "replica": batched_replica}
    assert delta("axon_batch_size_count", **theirs) == 4
    assert delta("axon_batch_size_bucket", **theirs, le="1") == 4
    assert delta("axon_batch_size_sum", **theirs) == 4
    assert delta("axon_batch_queue_wait_seconds_count", **theirs) == 4
    assert not any(name == "axon_batch_size_count" and dict(labels)["api"] == "scored"
                   for name, labels in after)  # no batching, no batch sizes

    # `axon describe` shows the same batches (the warm-up request's too), asked of the replica.
    batching = platform.describe("batched")["batching"]
    assert batching["replicas_reporting"] == 1
    assert batching["batches"] == batching["requests"] == 5, batching
    assert batching["mean_batch_size"] == 1
    assert 0 < batching["p99_batch_size"] <= 1
    assert batching["p50_queue_wait_ms"] >= 0
    assert platform.describe("scored")["batching"] is None
    shown = platform.axon("describe", "batched").stdout
    assert "batching: 5 batches, 1 requests each on average" in shown, shown
    assert "batching" not in platform.axon("describe", "scored").stdout

    # Histogram buckets are cumulative and end at the count.
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v in after.items()
                     if name == "axon_request_duration_seconds_bucket"
                     and dict(labels)["api"] == "scored")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (float("inf"), value(after, "axon_request_duration_seconds_count",
                                               api="scored"))

    # Labels stay bounded: nothing from the unknown path, no request ids.
    assert unknown.strip("/") not in text
    for name, labels in after:
        assert set(dict(labels)) <= {"api", "version", "status", "state", "replica", "class",
                                     "le"}, (name, labels)
    assert exported_names(text) == exported_names(before_text)


def test_types_help_and_tokens(apis):
    platform = apis
    text, _ = scrape(platform)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["axon_request_duration_seconds"].type == "histogram"
    assert families["axon_batch_size"].type == "histogram"
    assert families["axon_requests"].type == "counter"  # the parser drops _total
    assert families["axon_in_flight_requests"].type == "gauge"
    for family in families.values():
        assert family.documentation, family.name
    names = exported_names(text)
    assert all(name.startswith("axon_") for name in names), names
    for name in names:  # each family declared once
        assert len(re.findall(rf"^# TYPE {name} ", text, re.M)) == 1, name

    assert platform.management("GET", "/metrics", token="wrong").status_code == 401
    # The gateway's own listener: the same token, its part of the metrics.
    status, body = platform.gateway_admin_raw("GET", "/_axon/metrics")
    assert status == 200
    gateway_names = exported_names(body.decode())
    assert {"axon_requests_total", "axon_request_duration_seconds",
            "axon_queue_wait_seconds", "axon_in_flight_requests"} <= set(gateway_names)
    samples_of(body.decode())  # parses
    status, _ = platform.gateway_admin_raw("GET", "/_axon/metrics", token="wrong")
    assert status == 401
    # A replica serves its own next to /predict.
    replica = platform.describe("scored")["replicas"][0]
    res = requests.get(f"http://127.0.0.1:{replica['port']}/metrics", timeout=HTTP_TIMEOUT)
    assert res.status_code == 200
    assert "axon_predictor_errors_total" in exported_names(res.text)
    # The public port serves no metrics.
    assert platform.predict("/_axon/metrics", method="GET").status_code == 404


def grafana_metric_names():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "axon.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    names = set()
    for expr in exprs:
        names |= set(re.findall(r"\baxon_[a-z_]+", expr))
    return dashboard, names


def family_of(sample_name, exported):
    """The family a sample name belongs to: histograms' _bucket/_sum/_count are their family's."""
    if sample_name in exported:
        return sample_name
    for suffix in ("_bucket", "_sum", "_count"):
        base = sample_name.removesuffix(suffix)
        if base != sample_name and exported.get(base) == "histogram":
            return base
    return None


def test_grafana_dashboard_uses_only_exported_metrics(apis):
    text, _ = scrape(apis)
    exported = exported_names(text)
    dashboard, names = grafana_metric_names()
    unknown = {n for n in names if family_of(n, exported) is None}
    assert not unknown, f"deploy/grafana/axon.json uses metrics the platform does not export: " \
                        f"{sorted(unknown)}"
    titles = {panel["title"] for panel in dashboard["panels"]}
    for wanted in ("Request rate", "In-flight requests", "Active replicas", "2XX", "4XX", "5XX",
                   "Latency p50", "Latency p90", "Latency p99", "Average latency"):
        assert wanted in titles, wanted


def test_docs_list_every_exported_metric(apis):
    text, _ = scrape(apis)
    exported = exported_names(text)
    doc = (ROOT / "docs" / "observability.md").read_text()
    documented = dict(re.findall(r"^\| `(axon_[a-z_]+)` \| (counter|gauge|histogram) \|", doc,
                                 re.M))
    assert documented == exported
