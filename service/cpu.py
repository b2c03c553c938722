"""How many CPUs this process may really use: affinity, then the cgroup CPU quota.

On ECS (a task's `cpu` units) or under `docker run --cpus`, the quota is what counts; a pool
sized from os.cpu_count() there would oversubscribe and thrash.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["cgroup_cpu_limit", "usable_cpus"]

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _quota_v2(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period)


def _quota_v1(root: Path) -> float | None:
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_cpu_limit(root: Path = _CGROUP_ROOT) -> float | None:
    return _quota_v2(root) or _quota_v1(root)


def usable_cpus(root: Path = _CGROUP_ROOT) -> int:
    """Whole CPUs available: the affinity mask, capped by the quota rounded up (1.5 vCPU -> 2)."""
    cpus = _affinity()
    quota = cgroup_cpu_limit(root)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)
