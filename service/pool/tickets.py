"""A request's place in the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dispatch import WorkerPool

__all__ = ["Ticket"]


class Ticket:
    """A request's place in the service, held while it is being handled."""

    def __init__(self, pool: WorkerPool, batch: bool = False) -> None:
        self._pool = pool
        self._batch = batch
        pool._admitted += 1
        pool._batches += batch
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._pool._admitted -= 1
            self._pool._batches -= self._batch

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
