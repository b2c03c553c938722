"""Admission: a bounded number of requests in the service at once, and of batches among them.

A request holds a Ticket while it is handled. Refusing at the door (503 + Retry-After) is cheaper
for everyone than queueing work no worker will reach in time.
"""

from __future__ import annotations

from .errors import Overloaded, PoolClosed, PoolError

__all__ = ["Admission", "Ticket"]


class Admission:
    """Counts the requests admitted and refuses one that would not fit."""

    def __init__(self, size: int, max_waiting: int, max_batches: int = 0) -> None:
        self.size = size
        self.max_waiting = max_waiting
        # Batches admitted at once (0: no limit of their own). Each may hold up to
        # MAX_BATCH_OUTPUT_PIXELS of rasters in memory, so this is what bounds their sum.
        self.max_batches = max_batches
        self._admitted = 0
        self._batches = 0
        self._closed = False

    @property
    def capacity(self) -> int:
        """Requests that may be in the service at once: one running per worker plus the queue."""
        return self.size + self.max_waiting

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def batches(self) -> int:
        return self._batches

    @property
    def full(self) -> bool:
        return self._admitted >= self.capacity

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Admit nobody from now on (shutdown)."""
        self._closed = True

    def refusal(self, batch: bool = False) -> PoolError | None:
        """What admit() would raise now, if anything: lets the HTTP layer refuse a request before
        reading its body."""
        if self._closed:
            return PoolClosed()
        if self.full:
            # Roughly how long the queue ahead takes to drain at a typical task time of ~0.2 s.
            return Overloaded(retry_after=max(1, round(self.capacity / self.size * 0.2)))
        if batch and self.max_batches and self._batches >= self.max_batches:
            return Overloaded(retry_after=5)  # a batch takes seconds, not a fraction of one
        return None

    def admit(self, batch: bool = False) -> Ticket:
        """A place for one request; `batch=True` also counts it against MAX_CONCURRENT_BATCHES."""
        refused = self.refusal(batch)
        if refused is not None:
            raise refused
        self._admitted += 1
        self._batches += batch
        return Ticket(self, batch)

    def leave(self, batch: bool) -> None:
        """A ticket's request is done: its place is free. Only Ticket.release calls this."""
        self._admitted -= 1
        self._batches -= batch


class Ticket:
    """A request's place in the service, held while it is being handled."""

    def __init__(self, admission: Admission, batch: bool = False) -> None:
        self._admission = admission
        self._batch = batch
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission.leave(self._batch)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
