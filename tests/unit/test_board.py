"""The hand-off board (service/pool/board.py): both sides on one worker process, then on the real
pool a task queued in a busy worker's pipe is taken back when another worker becomes idle, and a
task handed to an idle worker stays there.

Timings are generous on purpose (a busy 2-core machine).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from poolrun import counter, later, scenario, until
from poolwork import Span, sleep, touch

from service import metrics
from service.pool import WorkerPool
from service.pool.board import STARTED, Board, Withdrawn, init_slot, run_unless_withdrawn


def test_the_server_takes_a_task_back_only_before_the_worker_starts_it() -> None:
    board = Board(multiprocessing.get_context("forkserver"))  # no process: the array alone
    assert board.started_seq() == 0 and board.worker_pid() == 0
    assert board.withdraw(3)
    board.shared.get_obj()[STARTED] = 3  # what the worker writes when it starts task 3
    assert board.started_seq() == 3
    assert not board.withdraw(3) and not board.withdraw(2)
    assert board.withdraw(4)


def test_the_worker_skips_a_withdrawn_task_runs_the_next_and_writes_its_pid(tmp_path: Path) -> None:
    context = multiprocessing.get_context("forkserver")
    board = Board(context)
    mark = tmp_path / "ran"
    with ProcessPoolExecutor(1, mp_context=context, initializer=init_slot, initargs=(os.getpid(), board.shared)) as ex:
        assert board.withdraw(1)
        assert ex.submit(run_unless_withdrawn, 1, touch, str(mark)).result(timeout=60) == Withdrawn(1)
        assert not mark.exists() and board.started_seq() == 0
        span: Span = ex.submit(run_unless_withdrawn, 2, touch, str(mark)).result(timeout=60)
        assert mark.exists() and board.started_seq() == 2
        assert board.worker_pid() == span.pid


def test_a_queued_job_is_taken_back_when_another_worker_becomes_idle() -> None:
    async def body(pool: WorkerPool) -> None:
        moved = counter(metrics.POOL_JOBS_MOVED)
        long = asyncio.ensure_future(pool.run(sleep, 8, later(60)))
        await until(lambda: pool.busy == 1, what="the long task")
        medium = asyncio.ensure_future(pool.run(sleep, 1, later(60)))
        await until(lambda: pool.busy == 2, what="the medium task")
        started = time.monotonic()
        quick: Span = await pool.run(sleep, 0, later(60))  # no idle worker: waits in a pipe
        assert time.monotonic() - started < 6  # not behind the 8 s task
        assert not long.done()
        assert (await medium).pid == quick.pid or counter(metrics.POOL_JOBS_MOVED) == moved + 1
        await long

    scenario(body)


def test_a_job_handed_to_an_idle_worker_stays_there() -> None:
    """Nothing is queued ahead of it, so no other idle worker takes it back: one round trip per
    task, not a submission plus a withdrawn one (what every request cost before)."""

    async def body(pool: WorkerPool) -> None:
        moved = counter(metrics.POOL_JOBS_MOVED)
        for _ in range(6):
            await pool.run(sleep, 0, later(60))
        assert counter(metrics.POOL_JOBS_MOVED) == moved

    scenario(body)
