"""The real worker pool (real processes, real libvips warm-up) driven directly: crashes, re-runs,
replacement, deadlines, lanes, jobs taken back from a busy worker's pipe, runaway and hung workers.

Timings are generous on purpose (a busy 2-core machine): every assertion compares durations that
differ by seconds, never by milliseconds.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from poolwork import Span, crash, sleep, stop, touch

from service import metrics
from service.pool import DeadlineExceeded, Lane, Overloaded, PoolClosed, WorkerCrashed, WorkerPool, background_limit


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


def test_lane_names_are_the_contract() -> None:
    assert [lane.value for lane in Lane] == ["interactive", "batch", "background"]


@pytest.mark.parametrize(
    ("workers", "share", "limit"),
    [
        (1, 0.5, 1),
        (2, 0.5, 1),
        (2, 1.0, 1),
        (3, 0.5, 2),
        (4, 0.5, 2),
        (4, 1.0, 3),
        (8, 0.25, 2),
        (8, 0.01, 1),
    ],
)
def test_background_share_rounds_up_and_always_leaves_one_worker(workers: int, share: float, limit: int) -> None:
    assert background_limit(workers, share) == limit


def test_the_running_job_that_kills_its_worker_fails_alone_and_the_queued_one_is_re_run() -> None:
    async def body(pool: WorkerPool) -> None:
        before = pool.worker_pids()
        restarts = counter(metrics.WORKER_RESTARTS)
        doomed = asyncio.ensure_future(pool.run(crash, 1.0, later(60)))
        await until(lambda: pool.busy == 1, what="the crashing job to be handed over")
        queued = asyncio.ensure_future(pool.run(sleep, 0.1, later(60)))  # in the same worker's pipe
        with pytest.raises(WorkerCrashed):
            await doomed
        span: Span = await queued
        assert span.pid not in before  # it ran on the replacement
        assert counter(metrics.WORKER_RESTARTS) == restarts + 1
        await until(lambda: pool.workers_ready == 1, what="the replacement to be warm")
        assert (await pool.run(sleep, 0, later(30))).pid == span.pid

    scenario(body, workers=1)


def test_a_job_not_started_by_its_deadline_is_dropped_and_never_runs(tmp_path: Path) -> None:
    mark = tmp_path / "ran"

    async def body(pool: WorkerPool) -> None:
        long = asyncio.ensure_future(pool.run(sleep, 3, later(60)))
        await until(lambda: pool.busy == 1, what="the long job to start")
        with pytest.raises(DeadlineExceeded) as refused:
            await pool.run(touch, str(mark), later(0.5))
        assert not refused.value.started
        await long
        await pool.run(sleep, 0, later(30))  # the worker has moved past the dropped job
        assert not mark.exists()

    scenario(body, workers=1)


def test_a_job_running_past_its_deadline_has_its_worker_killed_and_replaced() -> None:
    async def body(pool: WorkerPool) -> None:
        before = set(pool.worker_pids())
        kills = counter(metrics.WORKER_KILLS, "deadline")
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as late:
            await pool.run(sleep, 120, later(1.5))
        assert late.value.started
        await until(lambda: counter(metrics.WORKER_KILLS, "deadline") == kills + 1, what="the runaway kill")
        span = await pool.run(sleep, 0, later(60))
        assert span.pid not in before
        assert time.monotonic() - started < 60  # nowhere near the 120 s the job wanted

    scenario(body, workers=1)


def test_a_stopped_worker_is_detected_and_replaced_and_readiness_counts_it_out() -> None:
    async def body(pool: WorkerPool) -> None:
        victim = pool.worker_pids()[0]
        kills = counter(metrics.WORKER_KILLS, "stopped")
        os.kill(victim, signal.SIGSTOP)
        await until(lambda: counter(metrics.WORKER_KILLS, "stopped") == kills + 1, what="the stopped worker")
        await until(
            lambda: victim not in pool.worker_pids() and pool.workers_ready == 2, what="the replacement to be warm"
        )
        spans = await asyncio.gather(*(pool.run(sleep, 0.5, later(60)) for _ in range(4)))
        assert victim not in {s.pid for s in spans}

    scenario(body)


def test_a_worker_that_hangs_inside_a_job_fails_that_job_and_is_replaced() -> None:
    async def body(pool: WorkerPool) -> None:
        before = set(pool.worker_pids())
        hung = asyncio.ensure_future(pool.run(stop, None, later(60)))
        with pytest.raises(WorkerCrashed):
            await asyncio.wait_for(hung, 30)  # detected long before its 60 s deadline
        span = await pool.run(sleep, 0, later(60))
        assert span.pid not in before

    scenario(body, workers=1)


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
        await asyncio.sleep(0)
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
        await until(lambda: pool.busy == 1, what="the interactive job")
        queued = asyncio.ensure_future(pool.run(sleep, 0, later(60)))  # pipelined behind it
        slot = asyncio.ensure_future(pool.wait_background_slot())
        await asyncio.sleep(0.5)
        assert not slot.done()
        await busy
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
        await until(lambda: pool.busy == 1, what="the job")
        waiter = asyncio.ensure_future(pool.wait_background_slot())
        await asyncio.sleep(0.2)
        await pool.close(grace=0.5)
        with pytest.raises(PoolClosed):
            await waiter
        with pytest.raises((WorkerCrashed, PoolClosed)):
            await busy

    run_async(main())


def test_batches_are_admitted_up_to_their_own_limit() -> None:
    pool = WorkerPool(2, 8, max_batches=1)  # not started: admission needs no worker
    first = pool.admit(batch=True)
    with pytest.raises(Overloaded):
        pool.admit(batch=True)
    single = pool.admit()  # single conversions are not batches
    first.release()
    pool.admit(batch=True).release()
    single.release()
    assert pool.admitted == 0
