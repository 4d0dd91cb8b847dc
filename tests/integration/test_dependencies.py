"""predictor.dependencies: a virtual environment per set of dependencies, built offline.

The wheels are written by the tests themselves (a wheel is a zip file with a dist-info folder),
and pip installs them with --no-index --find-links, so nothing is downloaded.
"""

import base64
import hashlib
import zipfile

from conftest import wait_for

BUILD_TIMEOUT = 180  # a virtual environment with pip takes seconds; the machine may be busy

VERSION_PREDICTOR = """\
import subprocess
import sys

import axontestpkg


class PythonPredictor:
    def predict(self, payload):
        try:
            import fromshell
            shell = fromshell.FROM_SHELL
        except ImportError:
            shell = None
        import numpy  # a Debian package: the system's site-packages stay visible
        child = subprocess.run([sys.executable, "-c", "import axontestpkg; print(axontestpkg.VERSION)"],
                               capture_output=True, text=True, timeout=30)
        return {"version": axontestpkg.VERSION, "file": axontestpkg.__file__,
                "prefix": sys.prefix, "shell": shell, "numpy": numpy.__name__,
                "child": child.stdout.strip()}
"""

# Runs before pip, inside the environment: `python3` is the environment's.
SHELL_SCRIPT = """\
set -e
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo 'FROM_SHELL = "yes"' > "$site/fromshell.py"
echo "dependencies.sh wrote $site/fromshell.py"
"""


def write_wheel(folder, name, version):
    """Writes a pure-Python wheel of package `name` whose VERSION is `version`."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'VERSION = "{version}"\n',
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": ("Wheel-Version: 1.0\nGenerator: axon-tests\n"
                          "Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
        record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def write_api(folder, name, pin, wheels, shell=False, replicas=1):
    """A folder with predictor.py, requirements.txt (pinning axontestpkg) and a spec snippet."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "predictor.py").write_text(VERSION_PREDICTOR)
    (folder / "requirements.txt").write_text(
        f"--no-index\n--find-links {wheels}\naxontestpkg=={pin}\n")
    if shell:
        (folder / "dependencies.sh").write_text(SHELL_SCRIPT)
    return (f"- name: {name}\n"
            "  kind: RealtimeAPI\n"
            "  predictor:\n"
            "    type: python\n"
            f"    path: {folder.name}/predictor.py\n"
            "    dependencies:\n"
            f"      pip: {folder.name}/requirements.txt\n"
            + (f"      shell: {folder.name}/dependencies.sh\n" if shell else "")
            + "  autoscaling:\n"
            f"    init_replicas: {replicas}\n")


def built_envs(platform):
    envs = platform.home / "envs"
    return sorted(p.name for p in envs.iterdir() if (p / ".axon-ready").exists())


def test_conflicting_pins_each_get_their_own_environment(platform):
    wheels = platform.work_dir / "wheels"
    write_wheel(wheels, "axontestpkg", "1.0")
    write_wheel(wheels, "axontestpkg", "2.0")
    spec = platform.work_dir / "axon.yaml"
    spec.write_text(
        write_api(platform.work_dir / "one", "one", "1.0", wheels, replicas=2)
        + write_api(platform.work_dir / "two", "two", "2.0", wheels, shell=True)
        # Same requirements text as "one": the same environment, not a third one.
        + write_api(platform.work_dir / "same", "same", "1.0", wheels))
    platform.deploy(spec)
    for name in ("one", "two", "same"):
        platform.wait_live(name, timeout=BUILD_TIMEOUT)

    one = platform.predict_when_routed("/one", {}).json()
    two = platform.predict_when_routed("/two", {}).json()
    same = platform.predict_when_routed("/same", {}).json()
    assert one["version"] == "1.0" and two["version"] == "2.0" and same["version"] == "1.0"
    envs = platform.home / "envs"
    assert one["prefix"].startswith(str(envs)) and two["prefix"].startswith(str(envs))
    assert one["prefix"] != two["prefix"]
    assert same["prefix"] == one["prefix"]
    assert one["file"].startswith(one["prefix"] + "/lib/")
    assert one["numpy"] == "numpy"
    # sys.executable is the environment's python3: subprocesses see the same packages.
    assert one["child"] == "1.0" and two["child"] == "2.0"
    # The shell script ran inside two's environment only.
    assert two["shell"] == "yes" and one["shell"] is None
    assert built_envs(platform) == sorted({one["prefix"].rsplit("/", 1)[1],
                                           two["prefix"].rsplit("/", 1)[1]})
    logs = platform.axon_ok("logs", "two")
    assert "dependencies.sh wrote" in (envs / (two["prefix"].rsplit("/", 1)[1] + ".log")).read_text()
    assert "built the Python environment" in logs

    # A new version with the same dependencies (a changed predictor) reuses the environment.
    folder = platform.work_dir / "one"
    (folder / "predictor.py").write_text(VERSION_PREDICTOR + "\n# version 2\n")
    assert "updated api one (version 2)" in platform.deploy(spec)
    wait_for(lambda: platform.describe("one")["replicas"][0]["version"] == 2
             and platform.wait_live("one", timeout=BUILD_TIMEOUT), timeout=BUILD_TIMEOUT,
             message="version 2 of one to be live")
    assert platform.predict_when_routed("/one", {}).json()["prefix"] == one["prefix"]
    assert len(built_envs(platform)) == 2


def test_a_failing_requirement_puts_the_api_in_error_with_pips_reason(platform):
    wheels = platform.work_dir / "wheels"
    write_wheel(wheels, "axontestpkg", "1.0")
    spec = platform.work_dir / "axon.yaml"
    spec.write_text(write_api(platform.work_dir / "bad", "bad", "9.9", wheels))
    platform.deploy(spec)
    api = platform.wait_status("bad", "error", timeout=BUILD_TIMEOUT)
    assert api["reason"] == (
        "predictor.dependencies: pip install -r requirements.txt failed (exit code 1): ERROR: "
        "No matching distribution found for axontestpkg==9.9")
    assert "(from versions: 1.0)" in api["error"]  # pip's last lines follow the reason
    assert "reason: predictor.dependencies: pip install" in platform.axon_ok("get", "bad")
    res = platform.predict("/bad", {})
    assert res.status_code == 503 and "no ready replica" in res.json()["error"]
    assert not (platform.home / "envs").exists() or built_envs(platform) == []

    # Pinning a version that exists heals the API.
    (platform.work_dir / "bad" / "requirements.txt").write_text(
        f"--no-index\n--find-links {wheels}\naxontestpkg==1.0\n")
    assert "updated api bad (version 2)" in platform.deploy(spec)
    platform.wait_live("bad", timeout=BUILD_TIMEOUT)
    assert platform.predict_when_routed("/bad", {}).json()["version"] == "1.0"
