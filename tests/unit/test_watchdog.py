"""The watchdog (service/pool/watchdog.py): its verdict on one worker, and on the real pool a worker
that runs past a deadline, stops or hangs is killed and replaced.

Real processes: timings are generous on purpose (a busy 2-core machine): every assertion compares
durations that differ by seconds, never by milliseconds.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest
from poolrun import counter, later, run_async, scenario, until
from poolwork import sleep, stop

from service import metrics
from service.pool import DeadlineExceeded, WorkerCrashed, WorkerPool
from service.pool.lanes import Lane
from service.pool.slots import Call, Slot, Submission, retire
from service.pool.watchdog import RUNAWAY_GRACE_SECONDS, verdict


def test_the_verdict_names_a_runaway_a_stopped_and_a_dead_worker() -> None:
    async def main() -> None:
        slot = Slot(multiprocessing.get_context("forkserver"), 0)
        try:
            await asyncio.wrap_future(slot.warm())
            assert verdict(slot, time.time()) is None
            deadline = time.time()
            call = Call(sleep, 60, deadline, Lane.INTERACTIVE, asyncio.get_running_loop().create_future())
            slot.submit(Submission(call, 1, slot))
            await until(lambda: slot.running() is not None, what="the task to start")
            assert verdict(slot, deadline + RUNAWAY_GRACE_SECONDS) is None  # within the grace
            assert verdict(slot, deadline + RUNAWAY_GRACE_SECONDS + 0.01) == "deadline"
            assert slot.pid is not None
            os.kill(slot.pid, signal.SIGSTOP)
            await until(lambda: verdict(slot, deadline) == "stopped", what="the stopped worker")
            slot.kill()
            await until(lambda: verdict(slot, deadline) == "died", what="the killed worker")
        finally:
            await retire([slot], 1)

    run_async(main())


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
        assert time.monotonic() - started < 60  # nowhere near the 120 s the task wanted

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
