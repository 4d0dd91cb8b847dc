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


# zsh's completion builtins work only inside a completion widget; these stand-ins print what
# the script hands them, and the script itself runs in a real zsh after compinit.
ZSH_STUBS = r"""
compadd() { if [[ $1 == -a ]]; then print -l -- ${(P)2}; else shift; print -l -- "$@"; fi }
_describe() { print -l -- ${${(P)4}%%:*} }
_files() { print -- '<files>' }
"""


def zsh_complete(home, *words):
    script = ("autoload -Uz compinit && compinit -u -D\n"
              f"source <({shlex.quote(str(AXON))} completion zsh) || exit 9\n" + ZSH_STUBS +
              f"words=({' '.join(shlex.quote(w) for w in (str(AXON),) + words)})\n"
              f"CURRENT={len(words) + 1}\n_axon\n")
    res = subprocess.run(["zsh", "-f", "-c", script], env=axon_env(home), capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return sorted(w for w in res.stdout.splitlines() if w)


def test_bash_completes_verbs_flags_and_values(axon_home):
    verbs = verbs_of_help(axon_home)
    assert "completion" in verbs and "deploy" in verbs
    assert bash_complete(axon_home, "") == sorted(verbs + ["-h", "--help", "--help-all"])
    assert bash_complete(axon_home, "de") == ["delete", "deploy", "describe"]
    assert bash_complete(axon_home, "get", "--") == ["--help", "--help-all", "--output"]
    assert bash_complete(axon_home, "up", "--gateway-") == [
        "--gateway-host", "--gateway-port", "--gateway-threads"]
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
def test_zsh_script_completes_like_the_bash_one(platform):
    home = platform.home
    res = subprocess.run(["zsh", "-n", "-c", run_axon(home, "completion", "zsh").stdout],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    verbs = verbs_of_help(home)
    assert zsh_complete(home, "") == sorted(verbs + ["-h", "--help", "--help-all"])
    assert zsh_complete(home, "get", "--") == ["--help", "--help-all", "--output", "-h", "-o"]
    assert zsh_complete(home, "get", "-o", "") == ["json", "name", "table"]
    assert zsh_complete(home, "deploy", "") == ["<files>"]
    platform.deploy(write_api(platform.work_dir / "alpha", "alpha", PREDICTOR))
    assert zsh_complete(home, "describe", "") == ["alpha"]
    assert zsh_complete(home, "completion", "") == ["bash", "zsh"]
