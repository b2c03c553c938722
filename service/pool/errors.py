"""The pool's refusals: no place for a request, a deadline passed, a worker died, shutting down.
Each names its code from the registry (service/errors.py), which gives its HTTP status."""

from __future__ import annotations

from ..errors import DEADLINE, DEADLINE_EXCEEDED, OVERLOADED, SHUTTING_DOWN, WORKER_CRASHED, ServiceError

__all__ = ["DeadlineExceeded", "Overloaded", "PoolClosed", "PoolError", "WorkerCrashed"]


class PoolError(ServiceError):
    """Base of the pool's refusals."""


class Overloaded(PoolError):
    code = OVERLOADED

    def __init__(self, retry_after: int) -> None:
        super().__init__("The service is at capacity; retry shortly", retry_after=retry_after)


class DeadlineExceeded(PoolError):
    """The deadline passed: while the conversion ran (`started`: 504, retrying the same will not help),
    or while it waited for a worker (503: the same code as a worker that finds its task too late)."""

    def __init__(self, started: bool) -> None:
        self.started = started
        if started:
            self.code = DEADLINE_EXCEEDED
            super().__init__("The conversion did not finish before the request deadline")
        else:
            self.code = DEADLINE
            super().__init__("No worker became free before the request deadline; the job was dropped")


class WorkerCrashed(PoolError):
    code = WORKER_CRASHED

    def __init__(self) -> None:
        super().__init__("The worker converting this image died (out of memory or crashed); retry")


class PoolClosed(PoolError):
    code = SHUTTING_DOWN

    def __init__(self) -> None:
        super().__init__("The service is shutting down")
