"""Helpers for the tests that drive the real worker pool: run a scenario on a started pool, wait
for a condition, read a metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.pool import WorkerPool


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run in its own thread: the e2e suite's sync Playwright may have left an event loop
    running on this one, and asyncio.run refuses to start inside it."""
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


def scenario(body: Callable[[WorkerPool], Awaitable[Any]], workers: int = 2, **kwargs: Any) -> Any:
    async def main() -> Any:
        pool = WorkerPool(workers, 8, **kwargs)
        await pool.start()
        try:
            return await body(pool)
        finally:
            await pool.close(grace=1)

    return run_async(main())


def later(seconds: float) -> float:
    return time.time() + seconds


async def until(predicate: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def counter(metric: Any, *labels: str) -> float:
    child = metric.labels(*labels) if labels else metric
    return float(child._value.get())
