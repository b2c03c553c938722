"""The hand-off board on the real pool: a task queued in a busy worker's pipe is taken back when
another worker becomes idle; a task handed to an idle worker stays there.

Timings are generous on purpose (a busy 2-core machine).
"""

from __future__ import annotations

import asyncio
import time

from poolrun import counter, later, scenario, until
from poolwork import Span, sleep

from service import metrics
from service.pool import WorkerPool


def test_a_queued_job_is_taken_back_when_another_worker_becomes_idle() -> None:
    async def body(pool: WorkerPool) -> None:
        moved = counter(metrics.POOL_JOBS_MOVED)
        long = asyncio.ensure_future(pool.run(sleep, 8, later(60)))
        await until(lambda: pool.busy == 1, what="the long job")
        medium = asyncio.ensure_future(pool.run(sleep, 1, later(60)))
        await until(lambda: pool.busy == 2, what="the medium job")
        started = time.monotonic()
        quick: Span = await pool.run(sleep, 0, later(60))  # no idle worker: waits in a pipe
        assert time.monotonic() - started < 6  # not behind the 8 s job
        assert not long.done()
        assert (await medium).pid == quick.pid or counter(metrics.POOL_JOBS_MOVED) == moved + 1
        await long

    scenario(body)


def test_a_job_handed_to_an_idle_worker_stays_there() -> None:
    """Nothing is queued ahead of it, so no other idle worker takes it back: one round trip per
    job, not a submission plus a withdrawn one (what every request cost before)."""

    async def body(pool: WorkerPool) -> None:
        moved = counter(metrics.POOL_JOBS_MOVED)
        for _ in range(6):
            await pool.run(sleep, 0, later(60))
        assert counter(metrics.POOL_JOBS_MOVED) == moved

    scenario(body)
