"""Pool sizing from affinity and the cgroup CPU quota (as ECS task cpu units or docker --cpus set it)."""

from __future__ import annotations

import os

import pytest

from service.cpu import cgroup_cpu_limit, usable_cpus


def write(root, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_rounds_up_and_caps_affinity(tmp_path):
    write(tmp_path, "cpu.max", "150000 100000\n")  # 1.5 vCPU
    assert cgroup_cpu_limit(tmp_path) == 1.5
    assert usable_cpus(tmp_path) == min(2, len(os.sched_getaffinity(0)))


def test_cgroup_v2_without_limit_uses_affinity(tmp_path):
    write(tmp_path, "cpu.max", "max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    assert usable_cpus(tmp_path) == len(os.sched_getaffinity(0))


def test_cgroup_v1_quota(tmp_path):
    write(tmp_path, "cpu/cpu.cfs_quota_us", "50000\n")
    write(tmp_path, "cpu/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path) == 0.5
    assert usable_cpus(tmp_path) == 1  # never zero workers


def test_cgroup_v1_unlimited(tmp_path):
    write(tmp_path, "cpu/cpu.cfs_quota_us", "-1\n")
    write(tmp_path, "cpu/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_limit(tmp_path) is None


def test_affinity_mask_is_respected(tmp_path):
    original = os.sched_getaffinity(0)
    if len(original) < 2:
        pytest.fail("this test needs at least 2 CPUs in the affinity mask")
    os.sched_setaffinity(0, {min(original)})
    try:
        assert usable_cpus(tmp_path) == 1
    finally:
        os.sched_setaffinity(0, original)
