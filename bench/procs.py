"""CPU time and peak memory of processes, and of the whole machine, read from /proc (Linux).

The machine is shared: other sessions may run tests on the same two cores while we measure. A
`Meter` therefore reads the machine's busy time as well as ours, and what is left over ("foreign"
CPU, plus the hypervisor's steal time) is recorded beside every measurement.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import msgspec

_TICKS = os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree(root: int) -> list[int]:
    """root and all its descendants."""
    children, found, todo = _children(), [root], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """user + system seconds of each live process (a process gone meanwhile is left out)."""
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return out


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a process born in between counts from zero."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def peak_rss_bytes(pids: list[int]) -> int:
    """Sum of each process's high-water resident set (VmHWM)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy seconds, steal seconds) summed over all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / _TICKS, steal / _TICKS


class Noise(msgspec.Struct, frozen=True):
    """What else ran on the machine during a measurement, in cores (1.0 = one core all the time)."""

    foreign_cores: float
    steal_cores: float


class Meter:
    """Snapshots around one measurement: our processes (this one, its descendants, the extra pids
    given, children already reaped such as hey) against the machine's busy and steal time."""

    def __init__(self, extra_pids: list[int] | None = None) -> None:
        self.extra = extra_pids or []
        self._start = self._snap()

    def _snap(self) -> tuple[float, float, float, dict[int, float], float]:
        busy, steal = machine_cpu()
        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (time.monotonic(), busy, steal, cpu_by_pid(tree(os.getpid()) + self.extra), own.ru_utime + own.ru_stime)

    def stop(self) -> Noise:
        t1, busy1, steal1, ours1, reaped1 = self._snap()
        t0, busy0, steal0, ours0, reaped0 = self._start
        elapsed = max(t1 - t0, 1e-6)
        ours = cpu_delta(ours0, ours1) + (reaped1 - reaped0)
        foreign = max(0.0, (busy1 - busy0) - ours)
        return Noise(round(foreign / elapsed, 3), round((steal1 - steal0) / elapsed, 3))
