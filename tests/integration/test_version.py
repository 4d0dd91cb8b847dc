"""`axon version`: the CLI's version and commit, the platform's, and a warning when they differ;
and how the commit is found (git checkout, `git archive` tarball, packager's override)."""

import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import run_axon

SOURCE = Path(__file__).resolve().parents[2]


def git(*args, cwd=SOURCE):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)


def checkout_commit():
    """HEAD of the source tree, or None when it is not a git checkout."""
    res = git("rev-parse", "--show-toplevel")
    if res.returncode != 0 or Path(res.stdout.strip()).resolve() != SOURCE:
        return None
    return git("rev-parse", "HEAD").stdout.strip()


def test_version_names_the_commit_of_the_build(axon_home):
    out = json.loads(run_axon(axon_home, "version", "-o", "json").stdout)
    assert re.fullmatch(r"\d+\.\d+\.\d+", out["cli"]["version"])
    assert out["platform"] is None
    head = checkout_commit()
    if head is None:
        assert out["cli"]["commit"] == "unknown"
    else:  # built from this checkout (make test builds first); "-dirty" with local changes
        assert out["cli"]["commit"] in (head, head + "-dirty"), \
            f"the build reports {out['cli']['commit']} but HEAD is {head}: rebuild first"
    res = run_axon(axon_home, "version")
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout.splitlines() == [
        f"axon {out['cli']['version']} (commit {out['cli']['commit']})",
        f"platform not running at 127.0.0.1:{json.loads((axon_home / 'platform.json').read_text())['operator_port']}"]


def test_version_shows_the_running_platform_and_info_has_the_commit(platform):
    res = platform.axon("version")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    cli_line, platform_line = res.stdout.splitlines()
    build = cli_line.removeprefix("axon ")
    assert platform_line == f"platform {build} at 127.0.0.1:{platform.operator_port}"
    info = platform.management("GET", "/v1/info").json()
    assert f"{info['version']} (commit {info['commit']})" == build


class FakeOperator(http.server.BaseHTTPRequestHandler):
    """An operator of another build: the one thing this test cannot run for real, since it
    would need a second build of Axon. Answers only what `axon version` asks."""

    info = {"version": "0.0.1", "commit": "0" * 40}
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps({"status": "ok"} if self.path == "/healthz" else self.info).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_version_warns_when_the_platform_is_another_build(axon_home):
    config = json.loads((axon_home / "platform.json").read_text())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", config["operator_port"]),
                                             FakeOperator)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        res = run_axon(axon_home, "version")
        out = json.loads(run_axon(axon_home, "version", "-o", "json").stdout)
    finally:
        server.shutdown()
        server.server_close()
    assert res.returncode == 0
    port = config["operator_port"]
    assert res.stdout.splitlines()[1] == f"platform 0.0.1 (commit {'0' * 40}) at 127.0.0.1:{port}"
    assert res.stderr.startswith("axon: warning: this axon is ")
    assert f"but the platform at 127.0.0.1:{port} runs 0.0.1 (commit {'0' * 40})" in res.stderr
    assert "`axon down`, then `axon up`" in res.stderr
    assert out["platform"] == {"version": "0.0.1", "commit": "0" * 40,
                               "operator": f"127.0.0.1:{port}"}


def commit_of(source_dir, tmp_path, *defines):
    header = tmp_path / "git_commit.h"
    res = subprocess.run(["cmake", f"-DSOURCE_DIR={source_dir}", f"-DOUTPUT={header}", *defines,
                          "-P", str(SOURCE / "cmake" / "GitCommit.cmake")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return re.search(r'#define AXON_GIT_COMMIT "([^"]*)"', header.read_text()).group(1)


def test_commit_of_a_tarball_a_plain_copy_and_an_override(tmp_path):
    head = checkout_commit()
    if head is None:
        pytest.skip("the sources are not a git checkout: no tarball to make")
    tarball = tmp_path / "tarball"
    tarball.mkdir()
    archive = subprocess.run(f"git archive HEAD cmake | tar -x -C {tarball}", shell=True,
                             cwd=SOURCE, capture_output=True, text=True, timeout=60)
    assert archive.returncode == 0, archive.stderr
    assert commit_of(tarball, tmp_path) == head  # written by git archive (export-subst)
    copy = tmp_path / "copy"
    shutil.copytree(SOURCE / "cmake", copy / "cmake")  # no git, no substitution
    assert commit_of(copy, tmp_path) == "unknown"
    assert commit_of(copy, tmp_path, "-DCOMMIT=1234abcd") == "1234abcd"
