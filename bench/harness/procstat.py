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


def context_switches(pid):
    """Context switches (voluntary and not) of all of `pid`'s threads so far (0 if it is gone).
    A count, not a time: it says how often a request put a thread to sleep or preempted one,
    however noisy the machine."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                total += sum(int(line.split()[1]) for line in f
                             if line.startswith(("voluntary_ctxt_switches",
                                                 "nonvoluntary_ctxt_switches")))
        except (OSError, ValueError):
            pass  # a thread that ended
    return total


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
    """CPU seconds used by named groups of processes between start() and stop(); after stop(),
    `switches` holds each group's context switches in that time (threads that ended between
    the two are not counted)."""

    def __init__(self, groups):
        self.groups = groups  # {"gateway": [pid], "replica": [pid, pid], ...}
        self.before = {}
        self.switches_before = {}
        self.switches = {}

    def start(self):
        self.before = {name: sum(map(cpu_seconds, pids)) for name, pids in self.groups.items()}
        self.switches_before = {name: sum(map(context_switches, pids))
                                for name, pids in self.groups.items()}

    def stop(self):
        cpu = {name: sum(map(cpu_seconds, pids)) - self.before[name]
               for name, pids in self.groups.items()}
        self.switches = {name: sum(map(context_switches, pids)) - self.switches_before[name]
                         for name, pids in self.groups.items()}
        return cpu
