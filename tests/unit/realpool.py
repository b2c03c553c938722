"""A real worker pool (real processes, real libvips) and an Engine on it, for the unit tests of
the modules that drive the pool: the engine, the grid executor, the batch and the jobs runner."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyvips

from service.engine import Engine
from service.pool import WorkerPool
from service.settings import Settings


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in its own thread: another suite may have left an event loop on this one."""
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def with_engine(body: Callable[[Engine], Awaitable[Any]], **settings: Any) -> Any:
    """Run `body` against an Engine on a started pool sized by `settings` (two workers unless told)."""
    config = Settings(**{"workers": 2, **settings})

    async def main() -> Any:
        pool = WorkerPool(
            config.workers,
            config.max_waiting,
            job_worker_share=config.job_worker_share,
            max_batches=config.max_concurrent_batches,
        )
        await pool.start()
        try:
            return await body(Engine(pool, config))
        finally:
            await pool.close(grace=1)

    return run_async(main())


async def until(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Wait for an event observed by polling state (never a fixed sleep before an assertion)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def photo_jpeg(width: int, height: int, q: int = 85) -> bytes:
    """Photograph-like content (gradients and texture) so encoders have real work."""
    x = pyvips.Image.xyz(width, height)
    image = (x[0] * (255 / width)).bandjoin([x[1] * (255 / height), (x[0] + x[1]) * (127 / (width + height)) + 64])
    texture = pyvips.Image.gaussnoise(width, height, sigma=18, mean=0).gaussblur(0.8)
    data: bytes = (image + texture).cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=q)
    return data


def sample(metric: Any, *labels: str, suffix: str = "_count") -> float:
    """A prometheus metric's current value (a histogram's count by default)."""
    child = metric.labels(*labels) if labels else metric
    for family in child.collect():
        for s in family.samples:
            if s.name.endswith(suffix):
                return float(s.value)
    raise AssertionError(f"no {suffix} sample")
