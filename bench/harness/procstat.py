"""CPU time and peak memory of processes, read from /proc."""
import os

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds used so far by `pid` (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def peak_rss_mb(pid):
    """Peak resident set size (VmHWM) of `pid` in MiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class CpuMeter:
    """CPU seconds used by named groups of processes between start() and stop()."""

    def __init__(self, groups):
        self.groups = groups  # {"gateway": [pid], "replica": [pid, pid], ...}
        self.before = {}

    def start(self):
        self.before = {name: sum(map(cpu_seconds, pids)) for name, pids in self.groups.items()}

    def stop(self):
        return {name: sum(map(cpu_seconds, pids)) - self.before[name]
                for name, pids in self.groups.items()}
