"""One worker process behind its own single-process executor, with its hand-off board: start,
warm, liveness, kill, retire. Also the calls the pool runs and their hand-overs to a worker.

The worker's identity is the pid it writes on its board when it starts, with that process's start
time read from /proc, so a pid the kernel has reused for another process is never mistaken for
the worker (nor killed). Liveness and the stopped state come from /proc too: the executor's own
view of its processes is private.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
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

_HAVE_PROC = os.path.isdir("/proc/self")


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


def _stat(pid: int) -> tuple[bytes, int] | None:
    """A process's state letter and start time (clock ticks after boot); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


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
        self._process: tuple[int, int | None] | None = None  # pid, start time; once the worker started

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
    @property
    def pid(self) -> int | None:
        """The worker's pid, None until its process has started."""
        if self._process is None:
            pid = self.board.worker_pid()
            if not pid:
                return None
            stat = _stat(pid) if _HAVE_PROC else None
            self._process = (pid, stat[1] if stat is not None else None)
        return self._process[0]

    def _state(self) -> bytes | None:
        """The worker process's state letter (b"" when unknown), None when it no longer exists."""
        pid = self.pid
        if pid is None or self._process is None:
            return b""  # not started yet: nothing is known to be wrong
        if not _HAVE_PROC:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass
            return b""
        stat = _stat(pid)
        if stat is None or stat[1] != self._process[1]:
            return None  # gone, or its pid now names another process
        return stat[0]

    def alive(self) -> bool:
        state = self._state()
        return state is not None and state not in (b"Z", b"X")  # a zombie has exited

    def stopped(self) -> bool:
        """True when the worker is stopped (SIGSTOP, or traced): it will never answer."""
        return self._state() in (b"T", b"t")

    def kill(self) -> None:
        pid = self.pid
        if pid is not None and self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # its tasks fail with BrokenProcessPool

    def shutdown(self) -> None:
        """Let the worker finish the task it runs and exit; tasks not started are cancelled."""
        self.executor.shutdown(wait=False, cancel_futures=True)


async def retire(slots: list[Slot], grace: float) -> int:
    """Shut the slots down, give their workers `grace` seconds to finish what they run, then kill
    the ones still running. Returns how many had to be killed."""
    started = [s for s in slots if s.pid is not None]
    for slot in slots:
        slot.shutdown()

    async def gone(waiting: list[Slot], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while any(s.alive() for s in waiting) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    await gone(started, grace)
    stuck = [s for s in started if s.alive()]
    for slot in stuck:
        slot.kill()  # workers ignore SIGTERM by design; SIGKILL is the only stop
    await gone(stuck, 5)
    return len(stuck)
