"""Worker lifecycle on the real pool (real processes, real libvips warm-up): a worker that dies,
runs away past its deadline, stops or hangs is killed and replaced, and only its own task fails.

Timings are generous on purpose (a busy 2-core machine): every assertion compares durations that
differ by seconds, never by milliseconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from poolrun import counter, later, scenario, until
from poolwork import Span, crash, sleep, stop

from service import metrics
from service.pool import DeadlineExceeded, WorkerCrashed, WorkerPool


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
