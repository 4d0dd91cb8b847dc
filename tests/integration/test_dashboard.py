"""The web dashboard of a real platform, in Debian's headless Chromium: the link that `axon up`
and `axon dashboard` print signs in; the API list and an API's page show the numbers of known
traffic (the charts' samples add up to the gateway's counters exactly); a screenshot of the API
page is saved under build/test-artifacts/. Signing in: no session -> the login form, a wrong
token -> 401, the session cookie is HttpOnly and SameSite=Strict and only reads."""

import html
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import BIN_DIR, HTTP_TIMEOUT, OUTCOME_PREDICTOR, wait_for, write_api

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("AXON_TEST_ARTIFACTS", BIN_DIR.parent / "test-artifacts"))


needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="chromium is not installed (scripts/setup)")


def chromium(tmp_path, *args, timeout=90):
    """Runs headless Chromium with a fresh profile; returns its stdout."""
    profile = tmp_path / f"chromium-{len(list(tmp_path.glob('chromium-*')))}"
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dump_dom(tmp_path, url):
    """The document after its scripts ran (virtual time lets their fetches finish)."""
    return chromium(tmp_path, "--virtual-time-budget=8000", "--dump-dom", url)


def dashboard_link(platform):
    out = platform.axon_ok("dashboard")
    match = re.fullmatch(r"dashboard: (http://127\.0\.0\.1:\d+/login\?token=[0-9a-f]+)\n", out)
    assert match, out
    return match.group(1)


def attr(element, name):
    found = re.search(rf'\b{name}="([^"]*)"', element)
    return html.unescape(found.group(1)) if found else None


def element(dom, tag, id_):
    """The opening tag of the element with that id."""
    found = re.search(rf'<{tag}\b[^>]*\bid="{id_}"[^>]*>', dom)
    assert found, f"no <{tag} id={id_}> in the page"
    return found.group(0)


def cell_value(row, cls):
    found = re.search(rf'<td class="num {cls}" data-value="([^"]*)"', row)
    assert found, (cls, row)
    return found.group(1)


def totals(platform, name):
    api = platform.describe(name)
    return api["requests_2xx"], api["requests_4xx"], api["requests_5xx"]


@pytest.mark.up_args("--history-ms", 1000)
@needs_chromium
def test_dashboard_shows_the_api_list_and_charts_of_known_traffic(platform, tmp_path):
    link = dashboard_link(platform)
    assert f"dashboard: {link}\n" in platform.up_output  # `axon up` printed the same line
    platform.deploy(write_api(platform.work_dir / "scored", "scored", OUTCOME_PREDICTOR))
    platform.wait_live("scored")
    assert platform.predict_when_routed("/scored", "warm", "text/plain").status_code == 200
    before = totals(platform, "scored")
    # Three rounds a sample apart, so that the charts have a shape: 21 OK, 4 refused, 2 failed.
    for round_ in range(3):
        for i in range(7):
            assert platform.predict("/scored", f"x{i}", "text/plain").status_code == 200
        for _ in range(2):
            outcome = ("refuse", 400) if round_ < 2 else ("fail", 500)
            assert platform.predict("/scored", outcome[0], "text/plain").status_code == outcome[1]
        time.sleep(1.1)
    after = totals(platform, "scored")
    assert tuple(a - b for a, b in zip(after, before)) == (21, 4, 2)

    # The history's samples add up to the gateway's counters (every answer is in one sample).
    seen = {}

    def history_caught_up():
        h = platform.management("GET", "/v1/apis/scored/history").json()
        seen["sums"] = (sum(h["answers_2xx"]), sum(h["answers_4xx"]), sum(h["answers_5xx"]))
        seen["points"] = len(h["t"])
        return h if seen["sums"] == after and len(h["t"]) >= 3 else None
    try:
        history = wait_for(history_caught_up, timeout=20, message="the history")
    except AssertionError:
        pytest.fail(f"the history did not count {after} answers: it has {seen}")
    assert history["interval_ms"] == 1000
    assert max(history["requests_per_s"]) > 0
    assert any(v is not None and v > 0 for v in history["p99_ms"])
    replica = platform.describe("scored")["replicas"][0]
    usage = history["replicas"][replica["id"]]
    assert max(v for v in usage["rss_bytes"] if v is not None) > 10 * 1024 * 1024
    assert any(v is not None for v in usage["cpu_percent"])

    # The API list.
    dom = dump_dom(tmp_path, link)
    assert 'id="login"' not in dom
    table = dom[dom.index('<table id="api-list"'):]
    row = re.search(r'<tr data-api="scored">.*?</tr>', table, re.S).group(0)
    assert '<a href="/apis/scored">scored</a>' in row
    assert '<td class="status live"' in row
    assert '<td class="num replicas">1/1</td>' in row
    assert float(cell_value(row, "rps")) >= 0
    assert float(cell_value(row, "p99")) > 0
    error_rate = after[2] / sum(after)  # 5XX of every answer: all within the last minute
    assert float(cell_value(row, "errors")) == pytest.approx(error_rate)

    # The API's page: every chart, with the samples drawn; the totals; replicas, versions,
    # spec and logs.
    page = link + "&next=/apis/scored"
    dom = dump_dom(tmp_path, page)
    charts = {}
    for chart in ("requests", "in-flight", "replicas", "status", "latency", "cpu", "memory"):
        tag = element(dom, "figure", f"chart-{chart}")
        charts[chart] = (int(attr(tag, "data-points")), float(attr(tag, "data-max")))
        assert charts[chart][0] >= len(history["t"]), (chart, charts[chart])
    assert charts["requests"][1] >= max(history["requests_per_s"])  # the page came later
    assert charts["status"][1] > 0
    assert charts["latency"][1] > 0
    assert charts["replicas"][1] == 1
    assert charts["memory"][1] > 10 * 1024 * 1024
    for series in ("2XX", "4XX", "5XX", "p50", "p90", "p99", "avg", replica["id"]):
        assert f'data-series="{series}"' in dom, series
    assert f"{after[0]} / {after[1]} / {after[2]}" in dom
    replicas = dom[dom.index('<table id="replicas"'):]
    assert f"<td>{replica['id']}</td>" in replicas
    assert "v1 (current)" in dom
    spec = html.unescape(re.search(r'<pre id="spec">(.*?)</pre>', dom, re.S).group(1))
    assert '"name": "scored"' in spec
    logs = html.unescape(re.search(r'<pre id="logs">(.*?)</pre>', dom, re.S).group(1))
    assert "asked to fail" in logs  # the predictor's error, from the API's log

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard-api.png"
    chromium(tmp_path, "--virtual-time-budget=8000", "--window-size=1280,1500",
             "--hide-scrollbars", f"--screenshot={shot}", page)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(shot, tmp_path / shot.name)


def test_signing_in(platform, tmp_path):
    base = platform.operator_url
    token = platform.token()
    # No session: the pages answer the login form, the data 401.
    for path in ("/", "/apis/anything"):
        res = requests.get(base + path, timeout=HTTP_TIMEOUT)
        assert res.status_code == 200
        assert '<form id="login"' in res.text
        assert "no-store" in res.headers["Cache-Control"]
    assert requests.get(base + "/v1/apis", timeout=HTTP_TIMEOUT).status_code == 401
    # A wrong token: 401 and a clear page, no cookie.
    res = requests.get(base + "/login", params={"token": "wrong"}, timeout=HTTP_TIMEOUT)
    assert res.status_code == 401
    assert "Wrong token" in res.text and "axon dashboard" in res.text
    assert "Set-Cookie" not in res.headers
    # The link: a session cookie, HttpOnly and SameSite=Strict, and a redirect to the page.
    res = requests.get(base + "/login", params={"token": token, "next": "/apis/x"},
                       allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert res.status_code == 303
    assert res.headers["Location"] == "/apis/x"
    cookie = res.headers["Set-Cookie"]
    assert re.fullmatch(r"axon_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict", cookie)
    assert token not in cookie
    session = {"axon_session": cookie.split(";")[0].split("=", 1)[1]}
    assert requests.get(base + "/v1/apis", cookies=session, timeout=HTTP_TIMEOUT).json() == []
    page = requests.get(base + "/", cookies=session, timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and "/dashboard/app.js" in page.text
    # The session reads only; the token still does everything.
    res = requests.post(base + "/v1/shutdown", cookies=session, timeout=HTTP_TIMEOUT)
    assert res.status_code == 403 and "only reads" in res.json()["error"]
    assert platform.management("GET", "/v1/apis").status_code == 200
    # The form posts the token.
    res = requests.post(base + "/login", data={"token": token, "next": "/"},
                        allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert res.status_code == 303 and "HttpOnly" in res.headers["Set-Cookie"]

    if CHROMIUM is None:
        return
    # The same in a browser: the form without the link, the error page with a wrong one.
    dom = dump_dom(tmp_path, base + "/")
    assert '<form id="login"' in dom
    dom = dump_dom(tmp_path, base + "/login?token=wrong")
    assert "Wrong token" in dom
    assert '<table id="api-list"' not in dom
    dom = dump_dom(tmp_path, dashboard_link(platform))
    assert "No APIs yet" in dom
