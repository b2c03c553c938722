"""The physical limit: the service's own pipeline in a tight loop, one process per core, no HTTP.

Each process is set up exactly as a service worker (`init_worker`: one libvips thread, no
operation cache), started with `spawn` so no libvips state is inherited, and runs the same
`pipeline.convert` on the same options, so the only difference left is the service around it.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import msgspec

from service.cpu import usable_cpus

from . import procs
from .matrix import Cell


class CeilingRun(msgspec.Struct, frozen=True):
    images: int
    seconds: float
    images_per_second: float
    cpu_seconds_per_image: float


def _serve(tasks, results) -> None:  # type: ignore[no-untyped-def]
    from service.imaging.worker import init_worker

    init_worker()  # sets VIPS_CONCURRENCY=1 and empties the cache before pyvips is imported
    from service.imaging.parsing import parse_options
    from service.imaging.pipeline import convert
    from service.settings import Settings

    limits = Settings().limits  # the service's defaults, as a worker gets them

    while (task := tasks.get()) is not None:
        kind, data, params, start_at, count = task
        options = parse_options(params)
        if kind == "calibrate":  # warm the codec, then time one image
            convert(data, options, limits)
            t0 = time.perf_counter()
            convert(data, options, limits)
            results.put((os.getpid(), time.perf_counter() - t0))
            continue
        while time.time() < start_at:
            time.sleep(0.0005)
        for _ in range(count):
            convert(data, options, limits)
        results.put((os.getpid(), time.time() - start_at))


class Ceiling:
    """One long-lived process per core, each with its own task queue: a measurement gives every
    process the same share of images and a shared start time, and lasts until the last one is done
    (the same shape as `hey -n N` against a pool of that many workers)."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or usable_cpus()
        ctx = multiprocessing.get_context("spawn")
        self._results = ctx.Queue()
        self._tasks = [ctx.Queue() for _ in range(self.processes)]
        self._procs = [ctx.Process(target=_serve, args=(q, self._results), daemon=True) for q in self._tasks]
        for p in self._procs:
            p.start()

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid]

    def calibrate(self, cell: Cell, data: bytes) -> float:
        """Seconds for one image on one core (after a warm-up image), the slowest process's."""
        for q in self._tasks:
            q.put(("calibrate", data, cell.params(), 0.0, 0))
        return float(max(self._results.get(timeout=900)[1] for _ in self._tasks))

    def measure(self, cell: Cell, data: bytes, images: int, timeout: float = 900) -> CeilingRun:
        share = -(-images // self.processes)
        cpu0 = procs.cpu_by_pid(self.pids())
        start_at = time.time() + 0.1  # every process is idle on its queue: it starts on the clock
        for q in self._tasks:
            q.put(("measure", data, cell.params(), start_at, share))
        outcomes = [self._results.get(timeout=timeout) for _ in self._tasks]
        cpu = procs.cpu_delta(cpu0, procs.cpu_by_pid(self.pids()))
        seconds = max(elapsed for _, elapsed in outcomes)
        done = share * self.processes
        return CeilingRun(done, round(seconds, 4), done / seconds, cpu / done)

    def close(self) -> None:
        for q in self._tasks:
            q.put(None)
        for p in self._procs:
            p.join(10)
            if p.is_alive():
                p.kill()
