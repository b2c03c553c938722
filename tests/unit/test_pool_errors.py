"""The pool's refusals name their codes: status and Retry-After come from the registry."""

from __future__ import annotations

from service import errors
from service.pool.errors import DeadlineExceeded, Overloaded, PoolClosed, PoolError, WorkerCrashed


def test_each_refusal_names_its_code():
    assert Overloaded(4).code is errors.OVERLOADED and WorkerCrashed().code is errors.WORKER_CRASHED
    assert PoolClosed().code is errors.SHUTTING_DOWN
    assert all(isinstance(e, PoolError) for e in (Overloaded(1), WorkerCrashed(), PoolClosed()))


def test_overloaded_says_how_long_to_wait():
    assert (Overloaded(4).status, Overloaded(4).retry_after) == (503, 4)


def test_a_deadline_is_a_timeout_once_started_and_a_retry_before():
    ran, waited = DeadlineExceeded(started=True), DeadlineExceeded(started=False)
    assert (ran.code, ran.status, ran.retry_after, ran.started) == (errors.DEADLINE_EXCEEDED, 504, None, True)
    assert (waited.code, waited.status, waited.retry_after) == (errors.DEADLINE, 503, 1)
    assert "did not finish" in str(ran) and "No worker became free" in str(waited)
