"""One worker and its lifecycle (service/pool/slots.py): a slot knows its worker by the pid on its
board, sees it stopped or gone, kills and retires it; on the real pool, a worker that dies takes
only its own task with it and is replaced.

Real processes: timings are generous on purpose (a busy 2-core machine).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal

import pytest
from poolrun import counter, later, run_async, scenario, until
from poolwork import Span, crash, sleep

from service import metrics
from service.pool import WorkerCrashed, WorkerPool
from service.pool.lanes import Lane
from service.pool.slots import Call, Slot, Submission, retire


def forkserver() -> multiprocessing.context.BaseContext:
    return multiprocessing.get_context("forkserver")


def test_a_slot_knows_its_worker_by_the_pid_on_its_board_and_sees_it_stop_and_go() -> None:
    async def main() -> None:
        slot = Slot(forkserver(), 0)
        try:
            assert slot.pid is None and slot.alive()  # not started yet: nothing known to be wrong
            info = await asyncio.wrap_future(slot.warm())
            assert slot.pid == info.pid and slot.alive() and not slot.stopped()
            os.kill(info.pid, signal.SIGSTOP)
            await until(slot.stopped, what="the worker to be seen stopped")
            assert slot.alive()
            slot.kill()
            await until(lambda: not slot.alive(), what="the killed worker to be gone")
            assert not slot.stopped()
        finally:
            await retire([slot], 1)

    run_async(main())


def test_retire_lets_an_idle_worker_go_and_kills_one_still_running_a_task() -> None:
    async def main() -> None:
        idle, busy = Slot(forkserver(), 0), Slot(forkserver(), 1)
        await asyncio.gather(asyncio.wrap_future(idle.warm()), asyncio.wrap_future(busy.warm()))
        loop = asyncio.get_running_loop()
        call = Call(sleep, 60, later(120), Lane.INTERACTIVE, loop.create_future())
        running = busy.submit(Submission(call, 1, busy))
        await until(lambda: busy.board.started_seq() == 1, what="the long task to start")
        assert await retire([idle, busy], grace=0.5) == 1
        assert not idle.alive() and not busy.alive()
        assert running.exception(timeout=30) is not None  # the worker died under it

    run_async(main())


def test_the_running_job_that_kills_its_worker_fails_alone_and_the_queued_one_is_re_run() -> None:
    async def body(pool: WorkerPool) -> None:
        before = pool.worker_pids()
        restarts = counter(metrics.WORKER_RESTARTS)
        doomed = asyncio.ensure_future(pool.run(crash, 1.0, later(60)))
        await until(lambda: pool.busy == 1, what="the crashing task to be handed over")
        queued = asyncio.ensure_future(pool.run(sleep, 0.1, later(60)))  # in the same worker's pipe
        with pytest.raises(WorkerCrashed):
            await doomed
        span: Span = await queued
        assert span.pid not in before  # it ran on the replacement
        assert counter(metrics.WORKER_RESTARTS) == restarts + 1
        await until(lambda: pool.workers_ready == 1, what="the replacement to be warm")
        assert (await pool.run(sleep, 0, later(30))).pid == span.pid

    scenario(body, workers=1)
