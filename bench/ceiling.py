"""The physical limit: the service's own pipeline in a tight loop, one process per core, no HTTP.

Each process is set up exactly as a service worker (`init_worker`: one libvips thread, no cache)
and runs the same `pipeline.convert`, so the only difference left is the service around it.
"""

from __future__ import annotations

import multiprocessing
import time

from service.cpu import usable_cpus

from .matrix import Cell


def _serve(tasks, results) -> None:  # type: ignore[no-untyped-def]
    from service.imaging.options import parse_options
    from service.imaging.pipeline import convert
    from service.imaging.worker import init_worker

    init_worker()
    while (task := tasks.get()) is not None:
        data, params, start_at, seconds = task
        options = parse_options(params)
        convert(data, options)  # warm-up, not counted
        late = time.time() > start_at
        while time.time() < start_at:
            time.sleep(0.001)
        done, stop = 0, start_at + seconds
        while time.time() < stop:
            convert(data, options)
            done += 1
        results.put((done, late))


class Ceiling:
    """One long-lived process per core, each with its own task queue, so each measurement
    runs on every core at once from a shared start time."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or usable_cpus()
        ctx = multiprocessing.get_context("spawn")
        self._results = ctx.Queue()
        self._tasks = [ctx.Queue() for _ in range(self.processes)]
        self._procs = [ctx.Process(target=_serve, args=(q, self._results), daemon=True) for q in self._tasks]
        for p in self._procs:
            p.start()

    def measure(self, cell: Cell, data: bytes, seconds: float, warmup_margin: float = 1.0) -> float:
        """Images per second over all processes."""
        while True:
            start_at = time.time() + warmup_margin
            for q in self._tasks:
                q.put((data, cell.params(), start_at, seconds))
            outcomes = [self._results.get(timeout=seconds + 600) for _ in self._tasks]
            if not any(late for _, late in outcomes):
                return sum(done for done, _ in outcomes) / seconds
            warmup_margin *= 3  # a process started after the clock: its window was short; redo

    def close(self) -> None:
        for q in self._tasks:
            q.put(None)
        for p in self._procs:
            p.join(10)
