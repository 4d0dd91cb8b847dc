"""The Debian packages (`make package`, packaging/build-debs), end to end.

The packages are built from the build folder, inspected (fields, contents, the Depends of the
CLI-only install), and then installed into this machine with apt-get, as a user would: that
is the one way to see that their Depends resolve and that the installed layout works. The
platform is then started from the installed files (/usr/bin/axon, /usr/libexec/axon/...) with
an isolated AXON_HOME and free ports, driven by the installed Python client, and finally the
packages are purged and every file they installed must be gone.

Installing needs root (the test is skipped otherwise, saying so). It never replaces an Axon
installation it did not make: if an Axon package is installed already, it fails and says how
to remove it. Runs of this test on one machine take turns (a lock file), since dpkg serves one
at a time.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BIN_DIR, free_ports, platform_pids, pid_alive, wait_for

SOURCE = Path(__file__).resolve().parents[2]
BUILD = BIN_DIR.parent
PACKAGES = ["axon", "axon-runtime-torchscript", "axon-runtime-onnx", "axon-runtime-xgboost",
            "python3-axon"]
HEAVY = re.compile(r"^\s*(\S+:\s*)?(libtorch|libopencv|libxgboost)", re.M)
TIMEOUT = 300


def run(*args, check=True, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    res = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if check:
        assert res.returncode == 0, f"{args} exited {res.returncode}:\n{res.stdout}{res.stderr}"
    return res


def field(deb, name):
    return run("dpkg-deb", "-f", deb, name).stdout.strip()


def depends_names(depends):
    """Package names of a Depends: value (versions and alternatives dropped)."""
    return [re.split(r"[\s(:]", alt.strip())[0]
            for dep in depends.split(",") for alt in dep.split("|")]


def installed(package):
    res = run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return res.returncode == 0 and "installed" in res.stdout.split()[-1:]


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    out = tmp_path_factory.mktemp("debs")
    res = run(SOURCE / "packaging" / "build-debs", BUILD, out)
    files = {}
    for package in PACKAGES:
        found = list(out.glob(f"{package}_*.deb"))
        assert len(found) == 1, (package, res.stdout)
        files[package] = found[0]
    return files


def test_package_fields_and_contents(debs):
    version = re.search(r"project\(axon VERSION (\S+) ", (SOURCE / "CMakeLists.txt").read_text())[1]
    arch = run("dpkg", "--print-architecture").stdout.strip()
    assert debs["axon"].name == f"axon_{version}_{arch}.deb"
    assert debs["python3-axon"].name == f"python3-axon_{version}_all.deb"

    axon_depends = field(debs["axon"], "Depends")
    names = depends_names(axon_depends)
    assert "libc6" in names and any(n.startswith("libpython3") for n in names), axon_depends
    assert not HEAVY.search(axon_depends.replace(", ", "\n")), axon_depends
    for runtime, library in [("torchscript", "libtorch"), ("onnx", "libopencv-dnn"),
                             ("xgboost", "libxgboost")]:
        depends = field(debs[f"axon-runtime-{runtime}"], "Depends")
        assert f"axon (= {version})" in depends, depends
        assert any(n.startswith(library) for n in depends_names(depends)), depends
    assert field(debs["python3-axon"], "Depends").startswith("python3")
    assert "python3-axon" in field(debs["axon"], "Suggests")

    # What installing the CLI alone pulls in: nothing of libtorch, OpenCV or XGBoost.
    closure = run("apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                  "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                  *sorted(set(names))).stdout
    assert "libc6" in closure
    assert not HEAVY.search(closure), HEAVY.search(closure)[0]

    contents = {}
    for package, deb in debs.items():
        listing = run("dpkg-deb", "-c", deb).stdout
        contents[package] = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    axon = contents["axon"]
    for path in ["/usr/bin/axon", "/usr/libexec/axon/axon-operator",
                 "/usr/libexec/axon/axon-gateway", "/usr/libexec/axon/axon-replica",
                 "/usr/share/bash-completion/completions/axon",
                 "/usr/share/zsh/vendor-completions/_axon", "/usr/share/doc/axon/copyright",
                 "/usr/share/doc/axon/README.md", "/usr/share/doc/axon/docs/python-client.md",
                 "/usr/share/doc/axon/examples/text/axon.yaml",
                 "/usr/share/doc/axon/examples/xgboost-tabular/build_model.py"]:
        assert path in axon, path
    assert not [p for p in axon if "/model/" in p or "__pycache__" in p or p.endswith(".pkl")]
    for runtime in ["torchscript", "onnx", "xgboost"]:
        assert f"/usr/lib/axon/libaxon_{runtime}.so" in contents[f"axon-runtime-{runtime}"]
    assert "/usr/lib/python3/dist-packages/axon/client.py" in contents["python3-axon"]


def test_cli_needs_only_glibc_and_runs_when_copied_alone(debs, tmp_path):
    run("dpkg-deb", "-x", debs["axon"], tmp_path / "root")
    alone = tmp_path / "elsewhere" / "axon"
    alone.parent.mkdir()
    shutil.copy(tmp_path / "root" / "usr" / "bin" / "axon", alone)
    libraries = {line.split()[0] for line in run("ldd", alone).stdout.splitlines()}
    assert libraries <= {"linux-vdso.so.1", "libc.so.6", "libm.so.6",
                         "/lib64/ld-linux-x86-64.so.2"}, libraries
    env = {"PATH": "/usr/bin:/bin", "AXON_HOME": str(tmp_path / "home")}
    assert "deploy" in run(alone, "--help", env=env).stdout
    assert run(alone, "version", env=env).stdout.startswith("axon ")
    res = run(alone, "up", env=env, check=False)
    assert res.returncode == 1
    assert f"cannot find axon-operator in {tmp_path}/libexec/axon or {tmp_path}/elsewhere" \
        in res.stderr, res.stderr


@pytest.fixture
def machine_install(debs):
    """Installs every package with apt-get, yields each one's file list, purges them all."""
    if os.geteuid() != 0:
        pytest.skip("installing packages needs root; run the suite as root to test it")
    with open("/tmp/axon-package-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        already = [p for p in PACKAGES if installed(p)]
        if already:
            pytest.fail(f"{', '.join(already)} installed already; this test installs and purges "
                        f"them itself and does not replace an installation it did not make "
                        f"(remove them: dpkg --purge {' '.join(already)})", pytrace=False)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run("apt-get", "install", "-y", "--no-install-recommends",
                "-o", "DPkg::Lock::Timeout=120", *debs.values(), env=env)
            yield {p: run("dpkg", "-L", p).stdout.splitlines() for p in PACKAGES}
        finally:
            run("dpkg", "--purge", *[p for p in PACKAGES if installed(p)], check=False,
                env=env)


def test_install_run_from_the_installed_files_and_purge(machine_install, tmp_path):
    files = machine_install
    home = tmp_path / "home"
    work = tmp_path / "work"
    shutil.copytree("/usr/share/doc/axon/examples", work)
    operator_port, gateway_port, grpc_port = free_ports(3)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AXON_HOME": str(home),
           "LANG": "C.UTF-8"}
    try:
        run("/usr/bin/axon", "up", "--port", operator_port, "--gateway-port", gateway_port,
            "--grpc-port", grpc_port,
            "--tick-ms", 100, "--drain-ms", 3000, env=env, cwd=work)
        operator_pid = int((home / "run" / "operator.pid").read_text())
        assert os.readlink(f"/proc/{operator_pid}/exe") == "/usr/libexec/axon/axon-operator"

        run("/usr/bin/python3", work / "xgboost-tabular" / "build_model.py", env=env)
        script = textwrap.dedent("""\
            import json, sys, time
            import axon
            assert axon.__file__ == "/usr/lib/python3/dist-packages/axon/__init__.py", axon.__file__
            client = axon.Client()
            for spec in ["text/axon.yaml", "xgboost-tabular/axon.yaml"]:
                client.deploy(spec)
            def predict(name, payload):
                for _ in range(100):  # until the gateway has the route (see conftest)
                    try:
                        return client.predict(name, payload)
                    except axon.ApiError as e:
                        if e.status != 503:
                            raise
                        time.sleep(0.1)
            sample = json.load(open("xgboost-tabular/sample.json"))
            print(json.dumps({"text": predict("sentiment", "a great day"),
                              "tabular": predict("tabular", sample),
                              "pids": {a["name"]: [r["pid"] for r in client.get(a["name"])["replicas"]]
                                       for a in client.list()}}))
            """)
        answer = json.loads(run("/usr/bin/python3", "-c", script, env=env, cwd=work).stdout)
        assert answer["text"]["label"] == "positive"
        predictions = answer["tabular"]["predictions"]
        assert len(predictions) == 2 and all(abs(sum(p) - 1) < 1e-4 for p in predictions)
        for pid in answer["pids"]["tabular"] + answer["pids"]["sentiment"]:
            assert os.readlink(f"/proc/{pid}/exe") == "/usr/libexec/axon/axon-replica"
        maps = Path(f"/proc/{answer['pids']['tabular'][0]}/maps").read_text()
        assert "/usr/lib/axon/libaxon_xgboost.so" in maps

        # The installed completion script is the CLI's, and completes the deployed APIs.
        installed_script = Path("/usr/share/bash-completion/completions/axon").read_text()
        assert installed_script == run("/usr/bin/axon", "completion", "bash", env=env).stdout
        res = run("bash", "--norc", "--noprofile", "-c",
                  "source /usr/share/bash-completion/completions/axon; "
                  "COMP_WORDS=(axon describe ''); COMP_CWORD=2; _axon; "
                  'printf "%s\\n" "${COMPREPLY[@]}"', env=env)
        assert sorted(res.stdout.split()) == ["sentiment", "tabular"]
        out = run("/usr/bin/axon", "version", env=env).stdout
        assert re.search(r"^platform .* at 127.0.0.1:%d$" % operator_port, out, re.M), out
    finally:
        run("/usr/bin/axon", "down", env=env, check=False)
        leftovers = platform_pids(home)
        for pid in leftovers:
            os.kill(pid, 9)
        wait_for(lambda: not any(pid_alive(p) for p in leftovers), timeout=10)
    assert not leftovers, f"processes {leftovers} survived `axon down`"

    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("dpkg", "--purge", *PACKAGES, env=env)
    for package in PACKAGES:
        assert not installed(package), package
        ours = [f for f in files[package] if f.startswith(("/usr/bin/axon", "/usr/libexec/axon",
                                                          "/usr/lib/axon", "/usr/share/doc/axon",
                                                          "/usr/share/doc/python3-axon",
                                                          "/usr/lib/python3/dist-packages/axon"))
                or f.endswith(("/completions/axon", "/_axon"))]
        assert ours, package
        left = [f for f in ours if os.path.lexists(f)]
        assert not left, f"{package} left {left}"
    for folder in ["/usr/libexec/axon", "/usr/lib/axon", "/usr/share/doc/axon",
                   "/usr/lib/python3/dist-packages/axon"]:
        assert not os.path.lexists(folder), folder
