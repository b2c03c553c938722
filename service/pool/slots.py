"""One worker process behind its own single-process executor, with its hand-off board; the calls
the pool runs and their hand-overs to a worker."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from . import board
from .lanes import SHORT_BATCH_ITEM_SECONDS, Lane

__all__ = ["Call", "Slot", "Submission", "short", "stopped"]


class Call:
    """One call a caller waits for; it may be submitted more than once (taken back, re-run)."""

    __slots__ = ("cost", "current", "deadline", "fn", "job", "lane", "result")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        job: Any,
        deadline: float,
        lane: Lane,
        result: asyncio.Future[Any],
        cost: float | None = None,
    ) -> None:
        self.fn = fn
        self.job = job
        self.deadline = deadline
        self.lane = lane
        self.result = result
        self.cost = cost  # estimated seconds of work; None: unknown, treated as long
        self.current: Submission | None = None


class Submission:
    """One hand-over of an item to one worker."""

    __slots__ = ("item", "seq", "slot", "withdrawn")

    def __init__(self, item: Call, seq: int, slot: Slot) -> None:
        self.item = item
        self.seq = seq
        self.slot = slot
        self.withdrawn = False


class Slot:
    """One worker process behind its own executor, with its claim board."""

    def __init__(self, context: multiprocessing.context.BaseContext, index: int) -> None:
        self.index = index
        self.board: Any = context.Array("q", [0, 0])  # STARTED, WITHDRAWN (see imaging/board.py)
        self.executor = ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=board.init_slot, initargs=(os.getpid(), self.board)
        )
        self.outstanding: list[Submission] = []  # submission order
        self.ready = False  # warmed (pyvips imported and checked), and not condemned
        self.condemned = False  # killed by the watchdog, replaced once its jobs are accounted for
        self.dead = False

    @property
    def load(self) -> int:
        return len(self.outstanding)

    def lanes(self) -> set[Lane]:
        return {s.item.lane for s in self.outstanding if not s.withdrawn}

    def started_seq(self) -> int:
        # A plain read of one aligned integer needs no lock (and a dead worker may hold it).
        return int(self.board.get_obj()[board.STARTED])

    def running(self) -> Submission | None:
        started = self.started_seq()
        for sub in self.outstanding:
            if sub.seq == started:
                return sub
        return None

    def withdraw(self, sub: Submission) -> bool:
        """Take back a submission the worker has not started; False when it has (or may have)."""
        lock = self.board.get_lock()
        if not lock.acquire(timeout=0.05):  # a worker stopped inside the lock: leave it to the watchdog
            return False
        try:
            values = self.board.get_obj()
            if values[board.STARTED] >= sub.seq:
                return False
            values[board.WITHDRAWN] = sub.seq
        finally:
            lock.release()
        sub.withdrawn = True
        return True

    def alive(self) -> bool:
        # _processes is private, but it is the only view of whether the worker still exists.
        processes = getattr(self.executor, "_processes", None) or {}
        return all(p.is_alive() for p in processes.values())

    def pids(self) -> list[int]:
        return list((getattr(self.executor, "_processes", None) or {}).keys())

    def kill(self) -> None:
        for process in list((getattr(self.executor, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()

    def shutdown(self, wait: bool) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)


def stopped(pid: int) -> bool:
    """True when the process is stopped (SIGSTOP, or traced): it will never answer."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"T", b"t")


def short(item: Call) -> bool:
    return item.cost is not None and item.cost <= SHORT_BATCH_ITEM_SECONDS
