"""The hand-off board: which task a worker has started, and which queued task the server took back.

Each worker shares a three-number board with the server (STARTED, WITHDRAWN, PID), guarded by one
lock. A task starts only after the worker writes its sequence number to STARTED under the lock,
unless the server wrote that number to WITHDRAWN first: so the server can take back a task waiting
in a busy worker's pipe and run it on a worker that has just become idle, and it knows exactly which
task a worker is running (for deadlines and crash blame) instead of guessing from submission order.
The worker writes its pid when it starts, so the server can watch and stop that process without
reaching into the executor.

`init_slot` and `run_unless_withdrawn` run in the worker process (no pyvips import here); `Board`
is the server's side.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from ..imaging.worker import init_worker

__all__ = ["PID", "STARTED", "WITHDRAWN", "Board", "Shared", "Withdrawn", "init_slot", "run_unless_withdrawn"]

STARTED = 0
WITHDRAWN = 1
PID = 2


class Shared(Protocol):
    """The shared array (multiprocessing.Array) both sides hold."""

    def get_lock(self) -> Any: ...
    def get_obj(self) -> Any: ...


class Withdrawn(msgspec.Struct, frozen=True):
    """Answer of a task the server took back before this worker started it."""

    seq: int


class Board:
    """The server's side of one worker's board."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self.shared: Shared = context.Array("q", [0, 0, 0])

    def started_seq(self) -> int:
        """The sequence number of the last task the worker started (0: none yet)."""
        # A plain read of one aligned integer needs no lock (and a dead worker may hold it).
        return int(self.shared.get_obj()[STARTED])

    def worker_pid(self) -> int:
        """The worker's pid, 0 until its process has started."""
        return int(self.shared.get_obj()[PID])

    def withdraw(self, seq: int) -> bool:
        """Take back task `seq` if the worker has not started it; False when it has (or may have)."""
        lock = self.shared.get_lock()
        if not lock.acquire(timeout=0.05):  # a worker stopped inside the lock: leave it to the watchdog
            return False
        try:
            values = self.shared.get_obj()
            if values[STARTED] >= seq:
                return False
            values[WITHDRAWN] = seq
        finally:
            lock.release()
        return True


_board: Shared | None = None


def init_slot(service_pid: int, board: Shared) -> None:
    global _board
    _board = board
    with board.get_lock():
        board.get_obj()[PID] = os.getpid()
    init_worker(service_pid)


def run_unless_withdrawn(seq: int, fn: Callable[[Any], Any], task: Any) -> Any:
    board = _board
    if board is not None:
        with board.get_lock():
            values = board.get_obj()
            if values[WITHDRAWN] == seq:
                return Withdrawn(seq)
            values[STARTED] = seq
    return fn(task)
