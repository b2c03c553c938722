"""How each system scales from one core to two: its whole process tree and the load generator
pinned with taskset to CPU 0, then to CPUs 0-1, the same number of images each time, back to back
in one repeat (the systems' worker counts stay as started: one per core of the machine)."""

from __future__ import annotations

from .load import run_hey
from .matrix import Cell
from .procs import Meter
from .results import ScalingRun
from .targets import Request, Target

CPU_SETS = {1: "0", 2: "0,1"}


def measure(
    cell: Cell,
    name: str,
    target: Target,
    request: Request,
    images: int,
    concurrency: int,
    repeat: int,
    extra_pids: list[int],
) -> list[ScalingRun]:
    runs = []
    order = (1, 2) if repeat % 2 == 0 else (2, 1)
    try:
        for cores in order:
            cpus = CPU_SETS[cores]
            target.set_affinity(cpus)
            meter = Meter(extra_pids)
            load = run_hey(request, images, concurrency, cpus=cpus)
            runs.append(
                ScalingRun(
                    cell, name, cores, repeat, images, round(load.images_per_second, 3), load.errors, meter.stop()
                )
            )
    finally:
        target.set_affinity(CPU_SETS[2])
    return runs
