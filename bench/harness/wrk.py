"""Runs wrk against one URL and parses what it prints."""
import os
import re
import subprocess
from dataclasses import dataclass, field

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class WrkResult:
    requests: int
    requests_per_s: float
    latency_ms: dict = field(default_factory=dict)  # {"50": ms, "90": ms, "99": ms}
    non_2xx: int = 0
    socket_errors: int = 0
    output: str = ""

    @property
    def errors(self):
        return self.non_2xx + self.socket_errors


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse(output):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rps or not total:
        raise ValueError(f"wrk printed no totals:\n{output}")
    result = WrkResult(requests=int(total.group(1)), requests_per_s=float(rps.group(1)),
                       output=output)
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M):
        result.latency_ms[pct] = _ms(value)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result.non_2xx = int(non2xx.group(1)) if non2xx else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result.socket_errors = sum(map(int, sock.groups())) if sock else 0
    return result


def command(url, connections, seconds, script):
    threads = max(1, min(connections, 2))
    return ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "--timeout", "10s", "-s", str(script), url]


def run(url, connections, seconds, script, body, extra_env=None):
    """Loads `url` (127.0.0.1 only) with `connections` for `seconds`; bounded by wrk itself."""
    assert url.startswith("http://127.0.0.1:"), "load tests only target 127.0.0.1"
    env = dict(os.environ, AXON_BENCH_BODY=body, **(extra_env or {}))
    out = subprocess.run(command(url, connections, seconds, script), env=env, check=True,
                         capture_output=True, text=True, timeout=seconds + 60)
    return parse(out.stdout)
