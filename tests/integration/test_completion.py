"""`axon completion bash|zsh`: the scripts are sourced in a real bash (and zsh) and their
completion function is called as the shell would call it on Tab."""

import re
import shlex
import shutil
import subprocess

import pytest

from conftest import AXON, axon_env, run_axon, write_api

PREDICTOR = """\
    class PythonPredictor:
        def __init__(self, config):
            pass

        def predict(self, payload):
            return payload
    """


def verbs_of_help(home):
    """The verbs that `axon --help` lists (its Subcommands section)."""
    text = run_axon(home, "--help").stdout
    section = text.split("Subcommands:", 1)[1]
    return sorted(re.findall(r"^\s+(\w+)\s", section, re.M))


def bash_complete(home, *words):
    """COMPREPLY of the bash script for the command line `axon WORDS...`, the cursor at the end
    of the last word (give "" to complete a new word)."""
    line = " ".join(shlex.quote(w) for w in (str(AXON),) + words)
    script = (f'source <({shlex.quote(str(AXON))} completion bash) || exit 9\n'
              f'COMP_WORDS=({line}); COMP_CWORD={len(words)}\n'
              '_axon\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    res = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=axon_env(home),
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr
    return sorted(w for w in res.stdout.splitlines() if w)


def zsh_type(home, keys):
    """Types `keys` (Tab included) and Enter into a real interactive zsh (in a pseudo-terminal,
    zsh/zpty) that has loaded the script after compinit; returns what the command printed. The
    command line as completed is thereby run, so its output shows what Tab made of it."""
    def zsh_quote(text):
        return "$'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t") + "\\n'"
    script = "\n".join([
        "zmodload zsh/zpty",
        "zpty z 'zsh -f -i'",
        "zpty -w z 'PROMPT=\"> \"; autoload -Uz compinit; compinit -u -D; "
        "source <(axon completion zsh)'",
        f"zpty -w -n z {zsh_quote(keys)}",
        "zpty -w z 'echo END-OF-\"\"TYPING'",
        "zpty -r z out '*END-OF-TYPING*'",
        "print -r -- \"$out\"",
        "zpty -d z"])
    env = axon_env(home)
    env["PATH"] = f"{AXON.parent}:/usr/bin:/bin"
    res = subprocess.run(["zsh", "-f", "-c", script], env=env, capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout.replace("\r", "")


def test_bash_completes_verbs_flags_and_values(axon_home):
    verbs = verbs_of_help(axon_home)
    assert "completion" in verbs and "deploy" in verbs
    assert bash_complete(axon_home, "") == sorted(verbs + ["-h", "--help", "--env", "--help-all"])
    assert bash_complete(axon_home, "de") == ["delete", "deploy", "describe"]
    assert bash_complete(axon_home, "get", "--") == [
        "--help", "--help-all", "--output", "--watch"]
    assert bash_complete(axon_home, "up", "--gateway-") == [
        "--gateway-admin-port", "--gateway-host", "--gateway-port", "--gateway-threads"]
    assert bash_complete(axon_home, "get", "-o", "") == ["json", "name", "table"]
    assert bash_complete(axon_home, "get", "--output", "j") == ["json"]
    assert bash_complete(axon_home, "version", "-o", "") == ["json", "text"]
    assert bash_complete(axon_home, "completion", "") == ["bash", "zsh"]
    assert bash_complete(axon_home, "up", "--port", "") == []  # a number: nothing to offer
    assert bash_complete(axon_home, "nosuchverb", "") == []


def test_bash_completes_files_where_a_file_is_expected(axon_home, tmp_path):
    (tmp_path / "spec-a.yaml").write_text("")
    (tmp_path / "spec-b.yaml").write_text("")
    prefix = str(tmp_path / "spec-")
    expected = [prefix + "a.yaml", prefix + "b.yaml"]
    assert bash_complete(axon_home, "deploy", prefix) == expected
    assert bash_complete(axon_home, "predict", "someapi", prefix) == expected


def test_bash_completes_the_names_of_deployed_apis(platform):
    home = platform.home
    assert bash_complete(home, "describe", "") == []  # none deployed yet
    for name in ("alpha", "beta", "apple"):
        platform.deploy(write_api(platform.work_dir / name, name, PREDICTOR))
    assert platform.axon_ok("get", "-o", "name").split() == ["alpha", "apple", "beta"]
    assert platform.axon_ok("get", "beta", "-o", "name") == "beta\n"
    assert bash_complete(home, "describe", "") == ["alpha", "apple", "beta"]
    assert bash_complete(home, "logs", "a") == ["alpha", "apple"]
    assert bash_complete(home, "logs", "-f", "b") == ["beta"]          # after a flag
    assert bash_complete(home, "get", "-o", "json", "") == ["alpha", "apple", "beta"]
    assert bash_complete(home, "predict", "al") == ["alpha"]
    assert bash_complete(home, "delete", "beta", "") == []             # one API only
    assert bash_complete(home, "rollback", "alpha", "") == []          # a version number
    platform.axon_ok("delete", "apple")
    assert bash_complete(home, "refresh", "a") == ["alpha"]


def test_bash_script_registers_for_axon(axon_home):
    script = run_axon(axon_home, "completion", "bash").stdout
    res = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                          f"source <({shlex.quote(str(AXON))} completion bash); complete -p axon"],
                         capture_output=True, text=True, timeout=30)
    assert res.stdout.strip() == "complete -F _axon axon"
    assert script.startswith("# bash completion for axon")
    res = run_axon(axon_home, "completion", "fish")
    assert res.returncode == 2 and "fish" in res.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (scripts/setup)")
def test_zsh_completes_verbs_values_and_api_names_in_a_real_zsh(platform):
    home = platform.home
    res = subprocess.run(["zsh", "-n", "-c", run_axon(home, "completion", "zsh").stdout],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    # `axon comp<Tab>z<Tab>` becomes `axon completion zsh`, which prints the script.
    assert "#compdef axon" in zsh_type(home, "axon comp\tz\t")
    # `axon get -o n<Tab>` becomes `axon get -o name`, which succeeds; `-o n` would exit 2.
    assert "EXIT=0" in zsh_type(home, "axon get -o n\t; echo EXIT=$?")
    platform.deploy(write_api(platform.work_dir / "alpha", "alpha", PREDICTOR))
    # `axon describe al<Tab>` becomes `axon describe alpha`.
    out = zsh_type(home, "axon describe al\t")
    assert "endpoint: " + platform.gateway_url + "/alpha" in out, out
