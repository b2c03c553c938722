"""The conversion engine: admission, deadlines, the probe and a single conversion on the pool.

Knows the pool and the tasks, not HTTP: the handlers in `api/` translate requests into these
calls and their results into responses. Nothing here touches pixels; workers do.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import msgspec

from . import metrics, transfer
from .imaging.errors import TargetUnreachable
from .imaging.gridwork import run_probe
from .imaging.options import ConvertOptions
from .imaging.tasks import Converted, ConvertTask, Limits, Probed, ProbeTask
from .imaging.worker import run_convert
from .pool import Lane, Ticket, WorkerPool
from .settings import Settings

__all__ = ["Engine", "count_search", "searched"]


@dataclass(frozen=True)
class Engine:
    pool: WorkerPool
    settings: Settings

    @property
    def limits(self) -> Limits:
        return self.settings.limits

    @asynccontextmanager
    async def admission(self, batch: bool = False) -> AsyncIterator[Ticket]:
        """A request's place in the service, held for exactly the lifetime of the `async with`.
        A synchronous batch also takes one of MAX_CONCURRENT_BATCHES places."""
        ticket = self.pool.admit(batch)
        try:
            yield ticket
        finally:
            ticket.release()

    async def probe(
        self, data: bytes, deadline: float, lane: Lane = Lane.INTERACTIVE, *, validate: bool = False
    ) -> Probed:
        job = ProbeTask(data, self.limits, deadline, validate)
        return await self.pool.run(run_probe, job, deadline, lane=lane)

    async def convert(self, data: bytes, options: ConvertOptions) -> Converted:
        with self.pool.admit(), count_search(options), transfer.shared(data) as blob, transfer.output() as out:
            deadline = self.deadline_from_now()
            job = ConvertTask(b"" if blob else data, options, self.limits, deadline, blob, out)
            result = await self.pool.run(run_convert, job, deadline)
            if result.blob is not None:
                result = msgspec.structs.replace(result, data=transfer.fetch(result.blob), blob=None)
        metrics.record_conversion(
            result.input_type, result.format, len(data), len(result.data), result.decode_seconds, result.encode_seconds
        )
        metrics.record_search(options.max_bytes, options.min_score, result.format, result.attempts)
        return result

    def deadline_from_now(self) -> float:
        return time.time() + self.settings.request_deadline_seconds


def searched(options: ConvertOptions) -> bool:
    return options.max_bytes is not None or options.min_score is not None


@contextmanager
def count_search(options: ConvertOptions) -> Iterator[None]:
    """A max_bytes/min_score search that found nothing still spent its encodes: count them."""
    try:
        yield
    except TargetUnreachable as exc:
        metrics.record_search(options.max_bytes, options.min_score, exc.output_format, exc.attempts)
        raise
