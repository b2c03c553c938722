"""A request's place in the service (service/pool/tickets.py)."""

from __future__ import annotations

import pytest

from service.pool import Overloaded, WorkerPool


def test_batches_are_admitted_up_to_their_own_limit() -> None:
    pool = WorkerPool(2, 8, max_batches=1)  # not started: admission needs no worker
    first = pool.admit(batch=True)
    with pytest.raises(Overloaded):
        pool.admit(batch=True)
    single = pool.admit()  # single conversions are not batches
    first.release()
    pool.admit(batch=True).release()
    single.release()
    assert pool.admitted == 0
