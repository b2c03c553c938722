"""One worker process behind its own single-process executor, with its hand-off board: start,
warm, liveness, kill, retire. Also the calls the pool runs and their hand-overs to a worker."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..imaging.tasks import LibvipsInfo
from ..imaging.worker import libvips_info
from . import board
from .lanes import Lane
from .policy import Handed, WorkerLoad

__all__ = ["Call", "Slot", "Submission", "retire"]


class Call:
    """One call a caller waits for: fn(task). It may be handed over more than once (taken back, re-run)."""

    __slots__ = ("cost", "current", "deadline", "fn", "lane", "result", "task")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        task: Any,
        deadline: float,
        lane: Lane,
        result: asyncio.Future[Any],
        cost: float | None = None,
    ) -> None:
        self.fn = fn
        self.task = task
        self.deadline = deadline
        self.lane = lane
        self.result = result
        self.cost = cost  # estimated seconds of work; None: unknown, treated as long
        self.current: Submission | None = None


class Submission:
    """One hand-over of a call to one worker."""

    __slots__ = ("call", "seq", "slot", "withdrawn")

    def __init__(self, call: Call, seq: int, slot: Slot) -> None:
        self.call = call
        self.seq = seq
        self.slot = slot
        self.withdrawn = False


class Slot:
    """One worker process behind its own executor, with its hand-off board."""

    def __init__(self, context: multiprocessing.context.BaseContext, index: int) -> None:
        self.index = index
        self.board = board.Board(context)
        self.executor = ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=board.init_slot, initargs=(os.getpid(), self.board.shared)
        )
        self.outstanding: list[Submission] = []  # submission order
        self.ready = False  # warmed (pyvips imported and checked), and not condemned
        self.condemned = False  # killed by the watchdog, replaced once its tasks are accounted for
        self.dead = False

    # --- the tasks handed to it ----------------------------------------------------------------
    @property
    def load(self) -> int:
        return len(self.outstanding)

    def view(self) -> WorkerLoad:
        """This worker as the scheduling policy sees it."""
        tasks = tuple(Handed(s.seq, s.call.lane, s.withdrawn) for s in self.outstanding)
        return WorkerLoad(self.index, tasks, self.board.started_seq())

    def submission(self, seq: int) -> Submission | None:
        return next((sub for sub in self.outstanding if sub.seq == seq), None)

    def running(self) -> Submission | None:
        return self.submission(self.board.started_seq())

    def submit(self, sub: Submission) -> Future[Any]:
        """Hand a call to the worker; raises BrokenProcessPool or RuntimeError when it cannot take it."""
        future = self.executor.submit(board.run_unless_withdrawn, sub.seq, sub.call.fn, sub.call.task)
        self.outstanding.append(sub)
        return future

    def withdraw(self, sub: Submission) -> bool:
        """Take back a submission the worker has not started; False when it has (or may have)."""
        if not self.board.withdraw(sub.seq):
            return False
        sub.withdrawn = True
        return True

    def warm(self) -> Future[LibvipsInfo]:
        """Start the worker and import pyvips in it, so the first task does not pay for it."""
        return self.executor.submit(libvips_info)

    # --- the process ---------------------------------------------------------------------------
    def alive(self) -> bool:
        # _processes is private, but it is the only view of whether the worker still exists.
        processes = getattr(self.executor, "_processes", None) or {}
        return all(p.is_alive() for p in processes.values())

    def pids(self) -> list[int]:
        return list((getattr(self.executor, "_processes", None) or {}).keys())

    def stopped(self) -> bool:
        """True when the worker is stopped (SIGSTOP, or traced): it will never answer."""
        return any(_stopped(pid) for pid in self.pids())

    def kill(self) -> None:
        for process in list((getattr(self.executor, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()

    def shutdown(self) -> None:
        """Let the worker finish the task it runs and exit; tasks not started are cancelled."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def _stopped(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"T", b"t")


async def retire(slots: list[Slot], grace: float) -> int:
    """Shut the slots down, give their workers `grace` seconds to finish what they run, then kill
    the ones still running. Returns how many had to be killed."""
    processes = [p for s in slots for p in (getattr(s.executor, "_processes", None) or {}).values()]
    for slot in slots:
        slot.shutdown()

    def reap() -> int:
        deadline = time.monotonic() + grace
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        stuck = [p for p in processes if p.is_alive()]
        for process in stuck:
            process.kill()  # workers ignore SIGTERM by design; SIGKILL is the only stop
            process.join(5)
        return len(stuck)

    return await asyncio.to_thread(reap)
