"""The pool's refusals: no place for a request, a deadline passed, a worker died, shutting down."""

from __future__ import annotations


class PoolError(Exception):
    """Base of the pool's refusals; the HTTP layer maps each to a status."""


class Overloaded(PoolError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("The service is at capacity; retry shortly")
        self.retry_after = retry_after


class DeadlineExceeded(PoolError):
    def __init__(self, started: bool) -> None:
        self.started = started
        if started:
            super().__init__("The conversion did not finish before the request deadline")
        else:
            super().__init__("No worker became free before the request deadline; the job was dropped")


class WorkerCrashed(PoolError):
    def __init__(self) -> None:
        super().__init__("The worker converting this image died (out of memory or crashed); retry")


class PoolClosed(PoolError):
    def __init__(self) -> None:
        super().__init__("The service is shutting down")
