"""The pool's scheduling policy: pure functions over a snapshot of worker loads.

Nothing here touches a process, a queue or the clock, so every rule can be tested with hand-built
snapshots. The pool takes a fresh `Snapshot` before each decision and carries the decision out.

- Lanes: waiting interactive work goes before batch items, batch items before background ones; a
  lane whose next task must wait holds back the lanes below it (see `lanes.py`).
- One worker is kept free for interactive work when there are two or more: neither batch nor
  background work may take the last worker free of them (`_leaves_a_worker_free`, the one place
  that rule is written). A batch item estimated to take at most SHORT_BATCH_ITEM_SECONDS may use it.
- Background items start only on a fully idle worker, while nothing else waits, on at most
  `background_limit` workers, and are never pipelined.
- Pipelining: a second task may wait in a busy worker's pipe (so it never idles while the event loop
  turns a finished task around; measured ~28% idle with one task each), but only when no worker
  that could take it is idle, and never behind background work.
- Steal-back: when a worker is idle while a task waits in another worker's pipe behind a task that
  worker has not finished, the idle worker takes it over. A task just handed to an idle worker has
  not started either, but nothing is ahead of it: moving it would only cost a second round trip.
"""

from __future__ import annotations

import msgspec

from .lanes import SHORT_BATCH_ITEM_SECONDS, Lane

__all__ = [
    "PIPELINE_DEPTH",
    "Assignment",
    "Handed",
    "Move",
    "Snapshot",
    "WorkerLoad",
    "background_may_start",
    "background_room",
    "moves",
    "next_assignment",
    "worker_for",
]

# Tasks handed to one worker at most: the one it runs and the next, already in its pipe.
PIPELINE_DEPTH = 2


class Handed(msgspec.Struct, frozen=True):
    """A task handed to a worker and not yet returned by it."""

    seq: int
    lane: Lane
    withdrawn: bool = False  # taken back; the worker will skip it


class WorkerLoad(msgspec.Struct, frozen=True):
    """One live worker (warm, not condemned): the tasks handed to it in order, and the last one it started."""

    index: int
    tasks: tuple[Handed, ...] = ()
    started: int = 0

    @property
    def load(self) -> int:
        return len(self.tasks)

    @property
    def idle(self) -> bool:
        return not self.tasks

    @property
    def lanes(self) -> frozenset[Lane]:
        return frozenset(t.lane for t in self.tasks if not t.withdrawn)


class Snapshot(msgspec.Struct, frozen=True):
    """The pool at one moment: its live workers and what waits in each lane."""

    workers: tuple[WorkerLoad, ...]
    size: int  # workers configured (one being replaced is not in `workers`)
    background_limit: int
    reserve_for_interactive: bool = True
    interactive_waiting: int = 0
    batch_waiting: int = 0
    background_waiting: int = 0
    next_batch_cost: float | None = None  # estimated seconds of the batch task first in line

    def waiting(self, lane: Lane) -> int:
        return {
            Lane.INTERACTIVE: self.interactive_waiting,
            Lane.BATCH: self.batch_waiting,
            Lane.BACKGROUND: self.background_waiting,
        }[lane]


class Assignment(msgspec.Struct, frozen=True):
    """Hand the next waiting task of `lane` to worker `worker`."""

    lane: Lane
    worker: int


class Move(msgspec.Struct, frozen=True):
    """Take task `seq` back from worker `source` and hand it to idle worker `target`."""

    seq: int
    source: int
    target: int


def _idle(snapshot: Snapshot) -> list[WorkerLoad]:
    return [w for w in snapshot.workers if w.idle]


def _non_interactive(snapshot: Snapshot) -> int:
    return sum(1 for w in snapshot.workers if w.lanes - {Lane.INTERACTIVE})


def _running_background(snapshot: Snapshot) -> int:
    return sum(1 for w in snapshot.workers if Lane.BACKGROUND in w.lanes)


def _leaves_a_worker_free(snapshot: Snapshot) -> bool:
    """Whether one more worker may take batch or background work and still leave one worker to
    interactive work (always, with fewer than two workers)."""
    return snapshot.size < 2 or _non_interactive(snapshot) + 1 <= snapshot.size - 1


def _batch_may_spread(snapshot: Snapshot) -> bool:
    return not snapshot.reserve_for_interactive or _leaves_a_worker_free(snapshot)


def _background_fits(snapshot: Snapshot, background: int) -> bool:
    """Whether one more background item fits next to `background` ones already counted."""
    if snapshot.interactive_waiting or snapshot.batch_waiting:
        return False
    return background < snapshot.background_limit and _leaves_a_worker_free(snapshot)


def _short(cost: float | None) -> bool:
    return cost is not None and cost <= SHORT_BATCH_ITEM_SECONDS


def background_may_start(snapshot: Snapshot) -> bool:
    """Whether a new background item may start now: a worker is fully idle, no interactive or batch
    work waits, and the background items running or waiting stay under the limit."""
    background = _running_background(snapshot) + snapshot.background_waiting
    return bool(_idle(snapshot)) and _background_fits(snapshot, background)


def background_room(snapshot: Snapshot) -> int:
    """How many new background items may start now."""
    if not background_may_start(snapshot):
        return 0
    background = _running_background(snapshot) + snapshot.background_waiting
    return min(len(_idle(snapshot)), snapshot.background_limit - background)


def _idle_worker_for(snapshot: Snapshot, lane: Lane) -> int | None:
    """A fully idle worker this lane may take."""
    idle = _idle(snapshot)
    if not idle:
        return None
    if lane is Lane.BACKGROUND and not _background_fits(snapshot, _running_background(snapshot)):
        return None
    if lane is Lane.BATCH and not _batch_may_spread(snapshot):
        return None
    return idle[0].index


def _pipe_for(snapshot: Snapshot, lane: Lane) -> int | None:
    """A busy worker with room in its pipe, never behind background work; interactive work prefers
    a worker running interactive work (likely to finish soon)."""
    if lane is Lane.BACKGROUND:
        return None
    candidates = [w for w in snapshot.workers if 0 < w.load < PIPELINE_DEPTH and Lane.BACKGROUND not in w.lanes]
    if lane is Lane.BATCH and snapshot.reserve_for_interactive and snapshot.size >= 2:
        # Pipelining into a worker already doing batch work does not take one from interactive work.
        candidates = [w for w in candidates if w.lanes - {Lane.INTERACTIVE}] or (
            candidates if _leaves_a_worker_free(snapshot) else []
        )
    if not candidates:
        return None
    candidates.sort(key=lambda w: (w.lanes != {Lane.INTERACTIVE}, w.index))
    return candidates[0].index


def worker_for(snapshot: Snapshot, lane: Lane) -> int | None:
    """The worker the next waiting task of `lane` goes to, None when it must wait."""
    worker = _idle_worker_for(snapshot, lane)
    if worker is not None:
        return worker
    idle = _idle(snapshot)
    if not idle:
        return _pipe_for(snapshot, lane)  # pipeline only when no worker is idle at all
    if lane is Lane.BATCH:
        worker = _pipe_for(snapshot, lane)  # the idle one is kept for interactive work...
        if worker is None and _short(snapshot.next_batch_cost):
            # ...except for an item short enough that a request arriving now would barely notice
            # waiting for it: small grids then use every worker.
            worker = idle[0].index
        return worker
    return None


def next_assignment(snapshot: Snapshot) -> Assignment | None:
    """The next hand-over, highest lane first; None when nothing waits or the first lane with
    waiting work must wait (the lanes below it wait too)."""
    for lane in Lane:
        if snapshot.waiting(lane):
            worker = worker_for(snapshot, lane)
            return None if worker is None else Assignment(lane, worker)
    return None


def moves(snapshot: Snapshot) -> list[Move]:
    """Tasks an idle worker should take over, best first: each one queued in a worker's pipe behind
    a task that worker has not finished and has not started itself. The pool tries them in order
    (the worker may start one before it is taken back) and carries out at most one per snapshot."""
    found = []
    for worker in snapshot.workers:
        for i, task in enumerate(worker.tasks):
            if task.withdrawn or task.seq <= worker.started:
                continue
            if not any(not ahead.withdrawn for ahead in worker.tasks[:i]):
                continue
            target = _idle_worker_for(snapshot, task.lane)
            if target is not None:
                found.append(Move(task.seq, worker.index, target))
    return found
