"""The worker's side of the hand-off board: which task a worker has started, and which queued task the
server took back.

Each worker shares a two-number board with the server (STARTED, WITHDRAWN), guarded by one lock.
A task starts only after the worker writes its sequence number to STARTED under the lock, unless
the server wrote that number to WITHDRAWN first: so the server can take back a task waiting in a
busy worker's pipe and run it on a worker that has just become idle, and it knows exactly which task
a worker is running (for deadlines and crash blame) instead of guessing from submission order.
Runs in the worker process: no pyvips import here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from ..imaging.worker import init_worker

STARTED = 0
WITHDRAWN = 1


class Board(Protocol):
    def get_lock(self) -> Any: ...
    def get_obj(self) -> Any: ...


class Withdrawn(msgspec.Struct, frozen=True):
    """Answer of a task the server took back before this worker started it."""

    seq: int


_board: Board | None = None


def init_slot(service_pid: int, board: Board) -> None:
    global _board
    _board = board
    init_worker(service_pid)


def run_claimed(seq: int, fn: Callable[[Any], Any], task: Any) -> Any:
    board = _board
    if board is not None:
        with board.get_lock():
            values = board.get_obj()
            if values[WITHDRAWN] == seq:
                return Withdrawn(seq)
            values[STARTED] = seq
    return fn(task)
