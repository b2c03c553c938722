"""The scheduling policy (service/pool/policy.py) driven with hand-built snapshots: no processes,
no clock. Each snapshot says which tasks every live worker holds and what waits in each lane."""

from __future__ import annotations

import pytest

from service.pool.lanes import SHORT_BATCH_ITEM_SECONDS, Lane
from service.pool.policy import (
    PIPELINE_DEPTH,
    Assignment,
    Handed,
    Move,
    Snapshot,
    WorkerLoad,
    background_may_start,
    background_room,
    moves,
    next_assignment,
    worker_for,
)

INTER, BATCH, BACK = Lane.INTERACTIVE, Lane.BATCH, Lane.BACKGROUND  # short, so a worker's tasks read as a row


def worker(index: int, *lanes: Lane, first_seq: int = 0, started: int | None = None) -> WorkerLoad:
    """A worker holding one task per lane given, in order, with sequence numbers from `first_seq`
    (default: 10 x index + 1); it has started the first of them unless `started` says otherwise."""
    first = first_seq or 10 * index + 1
    tasks = tuple(Handed(first + i, lane) for i, lane in enumerate(lanes))
    return WorkerLoad(index, tasks, first if started is None and tasks else (started or 0))


def snap(*workers: WorkerLoad, limit: int = 1, reserve: bool = True, **waiting: object) -> Snapshot:
    """All `workers` live (none being replaced); `waiting` counts per lane, `next_batch_cost`."""
    return Snapshot(
        workers=workers,
        size=len(workers),
        background_limit=limit,
        reserve_for_interactive=reserve,
        **waiting,  # type: ignore[arg-type]
    )


# --- lane order --------------------------------------------------------------------------------
def test_interactive_goes_before_batch_before_background() -> None:
    everyone = {"interactive_waiting": 1, "batch_waiting": 1, "background_waiting": 1}
    assert next_assignment(snap(worker(0), **everyone)) == Assignment(INTER, 0)
    assert next_assignment(snap(worker(0), worker(1), **everyone)) == Assignment(INTER, 0)
    assert next_assignment(snap(worker(0), worker(1), batch_waiting=1, background_waiting=1)) == Assignment(BATCH, 0)
    idle_and_busy = (worker(0), worker(1, INTER), worker(2, INTER))
    assert next_assignment(snap(*idle_and_busy, limit=2, background_waiting=1)) == Assignment(BACK, 0)


def test_a_lane_that_must_wait_holds_back_the_lanes_below_it() -> None:
    # Two workers, one full of long batch items: the idle one is kept for interactive work, so the
    # next (long) batch item waits, and a background item behind it may not take that worker either.
    state = snap(worker(0, BATCH, BATCH), worker(1), batch_waiting=1, background_waiting=1, limit=1)
    assert next_assignment(state) is None


def test_nothing_waiting_means_nothing_to_assign() -> None:
    assert next_assignment(snap(worker(0), worker(1))) is None


# --- the worker kept for interactive work ------------------------------------------------------
def test_with_two_workers_or_more_one_is_kept_free_for_interactive_work() -> None:
    # (Full pipes: a batch item may otherwise wait behind batch work, see below.)
    assert worker_for(snap(worker(0, BATCH, BATCH), worker(1), batch_waiting=1), BATCH) is None
    busy = (worker(0, BATCH, BATCH), worker(1, BATCH, BATCH))
    assert worker_for(snap(*busy, worker(2), batch_waiting=1), BATCH) is None
    assert worker_for(snap(worker(0, BATCH, BATCH), worker(1), worker(2), batch_waiting=1), BATCH) == 1
    assert worker_for(snap(worker(0, BATCH), worker(1), interactive_waiting=1), INTER) == 1


def test_a_batch_may_take_every_worker_when_nothing_is_reserved_or_there_is_one_worker() -> None:
    assert worker_for(snap(worker(0, BATCH), worker(1), batch_waiting=1, reserve=False), BATCH) == 1
    assert worker_for(snap(worker(0), batch_waiting=1), BATCH) == 0


def test_short_batch_items_may_use_the_worker_kept_for_interactive_work() -> None:
    # Worker 0's pipe is full, so the kept worker is the only place for the item.
    full = worker(0, BATCH, BATCH)
    assert worker_for(snap(full, worker(1), batch_waiting=1, next_batch_cost=SHORT_BATCH_ITEM_SECONDS), BATCH) == 1
    assert (
        worker_for(snap(full, worker(1), batch_waiting=1, next_batch_cost=SHORT_BATCH_ITEM_SECONDS + 0.01), BATCH)
        is None
    )
    assert worker_for(snap(full, worker(1), batch_waiting=1, next_batch_cost=None), BATCH) is None  # unknown: long


def test_a_batch_item_pipelines_behind_batch_work_rather_than_take_the_kept_worker() -> None:
    assert worker_for(snap(worker(0, BATCH), worker(1), batch_waiting=1, next_batch_cost=0.1), BATCH) == 0


# --- background ---------------------------------------------------------------------------------
def test_background_keeps_to_its_share_and_needs_an_idle_worker() -> None:
    four = (worker(0), worker(1), worker(2), worker(3))
    assert background_may_start(snap(*four, limit=2))
    assert background_room(snap(*four, limit=2)) == 2
    running = (worker(0, BACK), worker(1), worker(2), worker(3))
    assert background_room(snap(*running, limit=2)) == 1
    assert not background_may_start(snap(worker(0, BACK), worker(1, BACK), worker(2), worker(3), limit=2))
    assert not background_may_start(snap(*running, limit=2, background_waiting=1))  # the queued one counts
    assert not background_may_start(snap(worker(0, INTER), limit=1))  # no idle worker


def test_background_never_takes_the_last_worker_free_of_other_work() -> None:
    assert not background_may_start(snap(worker(0, BATCH), worker(1), limit=1))
    assert worker_for(snap(worker(0, BATCH), worker(1), background_waiting=1, limit=1), BACK) is None
    assert background_may_start(snap(worker(0), worker(1), limit=1))
    assert background_may_start(snap(worker(0), limit=1))  # one worker: nothing to keep


def test_no_background_while_interactive_or_batch_work_waits() -> None:
    idle = (worker(0), worker(1), worker(2))
    assert not background_may_start(snap(*idle, limit=2, interactive_waiting=1))
    assert not background_may_start(snap(*idle, limit=2, batch_waiting=1))
    assert background_room(snap(*idle, limit=2, batch_waiting=1)) == 0


# --- pipelining -----------------------------------------------------------------------------------
def test_pipelining_only_when_no_worker_is_idle() -> None:
    assert worker_for(snap(worker(0, INTER), worker(1), interactive_waiting=1), INTER) == 1
    assert worker_for(snap(worker(0, INTER), worker(1, INTER), interactive_waiting=1), INTER) == 0


def test_a_pipe_holds_at_most_pipeline_depth_tasks() -> None:
    full = worker(0, *([INTER] * PIPELINE_DEPTH))
    assert worker_for(snap(full, interactive_waiting=1), INTER) is None


def test_never_pipelined_behind_background_work_nor_as_background_work() -> None:
    assert worker_for(snap(worker(0, BACK), interactive_waiting=1), INTER) is None
    assert worker_for(snap(worker(0, BACK), worker(1, INTER), interactive_waiting=1), INTER) == 1
    assert worker_for(snap(worker(0, INTER), background_waiting=1), BACK) is None


def test_interactive_work_prefers_a_pipe_behind_interactive_work() -> None:
    assert worker_for(snap(worker(0, BATCH), worker(1, INTER), interactive_waiting=1), INTER) == 1


def test_pipelined_batch_work_keeps_off_the_worker_kept_for_interactive_work() -> None:
    # Worker 1 runs interactive work; queueing a batch item there would make it a second batch worker.
    assert worker_for(snap(worker(0, BATCH, BATCH), worker(1, INTER), batch_waiting=1), BATCH) is None
    assert worker_for(snap(worker(0, BATCH, BATCH), worker(1, INTER), batch_waiting=1, reserve=False), BATCH) == 1
    assert worker_for(snap(worker(0, INTER), worker(1, INTER), worker(2, INTER), batch_waiting=1), BATCH) == 0


# --- steal-back -----------------------------------------------------------------------------------
def test_an_idle_worker_takes_over_a_task_queued_behind_another() -> None:
    state = snap(worker(0, INTER, INTER), worker(1))
    assert moves(state) == [Move(seq=2, source=0, target=1)]


def test_a_task_just_handed_to_an_idle_worker_is_never_taken_back() -> None:
    # Handed over, not started yet, but nothing is ahead of it.
    assert moves(snap(worker(0, INTER, started=0), worker(1))) == []


def test_a_task_already_started_is_not_taken_back() -> None:
    assert moves(snap(worker(0, INTER, INTER, started=2), worker(1))) == []


def test_a_task_behind_a_withdrawn_one_has_nothing_ahead_of_it() -> None:
    tasks = (Handed(1, INTER, withdrawn=True), Handed(2, INTER))
    assert moves(snap(WorkerLoad(0, tasks, 0), worker(1))) == []


def test_steal_back_follows_the_lane_rules() -> None:
    # The idle worker is kept for interactive work: a queued batch item stays where it is...
    assert moves(snap(worker(0, BATCH, BATCH), worker(1))) == []
    # ...an interactive task queued behind batch work is taken over.
    assert moves(snap(worker(0, BATCH, INTER), worker(1))) == [Move(seq=2, source=0, target=1)]


def test_no_moves_without_an_idle_worker() -> None:
    assert moves(snap(worker(0, INTER, INTER), worker(1, INTER))) == []


@pytest.mark.parametrize("lane", list(Lane))
def test_snapshot_counts_what_waits_per_lane(lane: Lane) -> None:
    state = snap(worker(0), interactive_waiting=1, batch_waiting=2, background_waiting=3)
    assert state.waiting(lane) == {INTER: 1, BATCH: 2, BACK: 3}[lane]
