"""A request's place in the service (service/pool/tickets.py): Admission and its tickets."""

from __future__ import annotations

import pytest

from service.pool import Overloaded, PoolClosed, WorkerPool
from service.pool.tickets import Admission


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


def test_admission_refuses_at_capacity_with_a_retry_after_and_everyone_once_closed() -> None:
    admission = Admission(size=2, max_waiting=2)
    tickets = [admission.admit() for _ in range(admission.capacity)]
    assert admission.admitted == 4 and admission.full
    refused = admission.refusal()
    assert isinstance(refused, Overloaded) and refused.retry_after >= 1
    with pytest.raises(Overloaded):
        admission.admit()
    tickets[0].release()
    assert admission.refusal() is None
    admission.close()
    assert isinstance(admission.refusal(), PoolClosed)
    for ticket in tickets:
        ticket.release()
    assert admission.admitted == 0


def test_a_ticket_gives_its_place_back_once_however_often_it_is_released() -> None:
    admission = Admission(size=1, max_waiting=1, max_batches=1)
    with admission.admit(batch=True) as ticket:
        assert (admission.admitted, admission.batches) == (1, 1)
        ticket.release()
    assert (admission.admitted, admission.batches) == (0, 0)
