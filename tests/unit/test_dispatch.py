"""The real worker pool (real processes) driven directly: deadlines, lanes, the worker kept for
interactive work, background items and their share.

Timings are generous on purpose (a busy 2-core machine): every assertion compares durations that
differ by seconds, never by milliseconds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest
from poolrun import later, run_async, scenario, until
from poolwork import Span, sleep, touch

from service.pool import DeadlineExceeded, Lane, PoolClosed, WorkerCrashed
from service.pool.dispatch import WorkerPool


def test_a_job_not_started_by_its_deadline_is_dropped_and_never_runs(tmp_path: Path) -> None:
    mark = tmp_path / "ran"

    async def body(pool: WorkerPool) -> None:
        long = asyncio.ensure_future(pool.run(sleep, 3, later(60)))
        await until(lambda: pool.busy == 1, what="the long task to start")
        with pytest.raises(DeadlineExceeded) as refused:
            await pool.run(touch, str(mark), later(0.5))
        assert not refused.value.started
        await long
        await pool.run(sleep, 0, later(30))  # the worker has moved past the dropped task
        assert not mark.exists()

    scenario(body, workers=1)


def test_batch_items_leave_a_worker_to_interactive_requests() -> None:
    async def body(pool: WorkerPool) -> None:
        batch = [asyncio.ensure_future(pool.run(sleep, 3, later(120), lane=Lane.BATCH)) for _ in range(4)]
        await until(lambda: pool.busy >= 1, what="the batch to start")
        started = time.monotonic()
        await pool.run(sleep, 0, later(60))
        assert time.monotonic() - started < 2.5  # did not wait for a 3 s batch item
        spans: list[Span] = await asyncio.gather(*batch)
        assert len({s.pid for s in spans}) == 1  # every batch item ran on the same worker

    scenario(body)


def test_short_batch_items_may_use_the_worker_kept_for_interactive_requests() -> None:
    """Items estimated under SHORT_BATCH_ITEM_SECONDS spread over both workers (an interactive
    request waits at most that long); the same items without an estimate keep to one worker."""

    async def body(pool: WorkerPool) -> None:
        short = [pool.run(sleep, 0.3, later(120), lane=Lane.BATCH, cost=0.1) for _ in range(6)]
        spans: list[Span] = await asyncio.gather(*short)
        assert len({s.pid for s in spans}) == 2
        unknown = [pool.run(sleep, 0.3, later(120), lane=Lane.BATCH) for _ in range(6)]
        spans = await asyncio.gather(*unknown)
        assert len({s.pid for s in spans}) == 1

    scenario(body)


def test_a_batch_alone_uses_every_worker() -> None:
    async def body(pool: WorkerPool) -> None:
        spans: list[Span] = await asyncio.gather(*(pool.run(sleep, 2, later(120), lane=Lane.BATCH) for _ in range(2)))
        assert len({s.pid for s in spans}) == 2
        assert max(s.start for s in spans) < min(s.end for s in spans)  # they overlapped

    scenario(body, reserve_for_interactive=False)


def test_interactive_work_waiting_goes_before_batch_items() -> None:
    async def body(pool: WorkerPool) -> None:
        blocker = asyncio.ensure_future(pool.run(sleep, 2, later(60)))
        await until(lambda: pool.busy == 1, what="the blocker")
        batch = [asyncio.ensure_future(pool.run(sleep, 2, later(120), lane=Lane.BATCH)) for _ in range(3)]
        await asyncio.sleep(0)  # one loop turn: the batch items are queued before the single one
        single: Span = await pool.run(sleep, 0, later(60))
        spans: list[Span] = await asyncio.gather(*batch)
        assert single.start < sorted(s.start for s in spans)[1]  # at most one batch item went first
        await blocker

    scenario(body, workers=1)


def test_background_items_wait_for_an_idle_worker_and_keep_to_their_share() -> None:
    async def body(pool: WorkerPool) -> None:
        async def job_item() -> Span:
            await pool.wait_background_slot()
            return await pool.run(sleep, 1.5, later(60), lane=Lane.BACKGROUND)

        spans: list[Span] = await asyncio.gather(*(job_item() for _ in range(3)))
        ordered = sorted(spans, key=lambda s: s.start)
        for first, second in itertools.pairwise(ordered):
            assert second.start >= first.end - 0.05  # share 0.5 of 2 workers: one at a time

    scenario(body, job_worker_share=0.5)


def test_no_background_slot_while_interactive_work_waits() -> None:
    async def body(pool: WorkerPool) -> None:
        busy = asyncio.ensure_future(pool.run(sleep, 2, later(60)))
        await until(lambda: pool.busy == 1, what="the interactive task")
        queued = asyncio.ensure_future(pool.run(sleep, 2, later(60)))  # pipelined behind it
        await until(lambda: pool.busy == 2, what="the second task in the worker's pipe")
        slot = asyncio.ensure_future(pool.wait_background_slot())
        # The pool grants a slot only when asked or when it dispatches (a task handed over or
        # finished): check right after each of those events instead of sleeping and hoping.
        await asyncio.sleep(0)  # one loop turn: the request for a slot has been made
        assert not slot.done()
        await busy  # the pool has dispatched: the queued task runs now, no worker is idle
        assert not queued.done() and not slot.done()
        await queued
        await asyncio.wait_for(slot, 10)
        span = await pool.run(sleep, 0, later(60), lane=Lane.BACKGROUND)
        assert span.pid > 0

    scenario(body, workers=1)


def test_waiting_for_a_background_slot_ends_at_shutdown() -> None:
    async def main() -> None:
        pool = WorkerPool(1, 4)
        await pool.start()
        busy = asyncio.ensure_future(pool.run(sleep, 3, later(60)))
        await until(lambda: pool.busy == 1, what="the task")
        waiter = asyncio.ensure_future(pool.wait_background_slot())
        await asyncio.sleep(0)  # one loop turn: the waiter is waiting before the pool closes
        assert not waiter.done()
        await pool.close(grace=0.5)
        with pytest.raises(PoolClosed):
            await waiter
        with pytest.raises((WorkerCrashed, PoolClosed)):
            await busy

    run_async(main())
