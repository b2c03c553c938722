"""Server-side orchestration of conversions: admission, deadlines, fan-out, metrics.

Knows the pool and the job messages, not HTTP: the handlers in `api/` translate requests into
these calls and their results into responses. Nothing here touches pixels; workers do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import msgspec

from . import metrics, transfer
from .imaging.errors import OptionError, TargetUnreachable
from .imaging.jobs import Converted, ConvertJob, Encoded, EncodeJob, Limits, Prepared, PrepareJob
from .imaging.formats import OutputFormat
from .imaging.options import ConvertOptions
from .imaging.worker import run_convert, run_encode, run_prepare
from .pool import Ticket, WorkerPool
from .settings import Settings


@dataclass(frozen=True)
class Engine:
    pool: WorkerPool
    settings: Settings

    @property
    def limits(self) -> Limits:
        return Limits(self.settings.max_input_pixels, self.settings.max_input_pixels)

    async def convert(self, data: bytes, options: ConvertOptions) -> Converted:
        with self.pool.admit(), count_search(options), transfer.shared(data) as blob:
            deadline = self.deadline_from_now()
            job = ConvertJob(b"" if blob else data, options, self.limits, deadline, blob)
            result = await self.pool.run(run_convert, job, deadline)
        metrics.record_conversion(result.input_type, result.format, len(data), len(result.data),
                                  result.decode_seconds, result.encode_seconds)
        metrics.record_search(options.max_bytes, options.min_score, result.format, result.attempts)
        return result

    def deadline_from_now(self) -> float:
        return time.time() + self.settings.request_deadline_seconds


class BatchOutput(msgspec.Struct, frozen=True):
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    data: bytes
    score: float | None = None


class BatchPlan(msgspec.Struct, frozen=True):
    widths: tuple[int | None, ...]
    qualities: tuple[int | None, ...]
    formats: tuple[OutputFormat, ...]

    @property
    def count(self) -> int:
        return len(self.widths) * len(self.qualities) * len(self.formats)


def check_batch_size(plan: BatchPlan, limit: int) -> None:
    if plan.count > limit:
        raise OptionError(
            "widths",
            f"at most {limit} outputs (widths x qualities x formats)",
            f"{len(plan.widths)} x {len(plan.qualities)} x {len(plan.formats)} = {plan.count}",
        )


class Batch:
    """One upload, every width x quality x format. Decodes once at the largest width and scales
    down for the others when the geometry allows it (width-only resizes), else once per width;
    encodes all outputs in parallel across the pool, yielding them as they finish."""

    def __init__(self, engine: Engine, data: bytes, options: ConvertOptions, plan: BatchPlan) -> None:
        self.engine = engine
        self.data = data
        self.options = options
        self.plan = plan
        self.deadline = engine.deadline_from_now()
        self.ticket: Ticket = engine.pool.admit()
        self.original: Prepared | None = None

    def close(self) -> None:
        self.ticket.release()

    async def _prepare(self) -> list[Prepared]:
        pool, limits = self.engine.pool, self.engine.limits
        widths = sorted(set(self.plan.widths), key=lambda w: (w is not None, w or 0))
        if self.options.height is None and self.options.fit != "cover":
            # Width-only geometry: decode once at the largest size (None = original size, the
            # largest), scale down to the others in that worker (measured 1.5-2.4x less work
            # than one shrink-on-load decode per width).
            largest = None if None in widths else max(w for w in widths if w is not None)
            groups = [(largest, tuple(widths))]
        else:
            groups = [(w, (w,)) for w in widths]  # cover/height: each width is its own crop
        jobs = [PrepareJob(self.data, msgspec.structs.replace(self.options, width=top), group, limits, self.deadline)
                for top, group in groups]
        results = await asyncio.gather(*(pool.run(run_prepare, j, self.deadline) for j in jobs))
        for prepared in results:
            metrics.DECODE_SECONDS.labels(prepared.input_type).observe(prepared.decode_seconds)
        return list(results)

    def _encode_jobs(self, prepared: list[Prepared]) -> list[tuple[int | None, EncodeJob]]:
        jobs: list[tuple[int | None, EncodeJob]] = []
        seen: set[tuple[int, int, int | None, str]] = set()
        for p in prepared:
            for key, raster in p.rasters.items():
                width = None if key == -1 else key
                for fmt in self.plan.formats:
                    for quality in self.plan.qualities:
                        out = (raster.width, raster.height, quality, fmt.value)
                        if out in seen:  # widths past the original all give the original size
                            continue
                        seen.add(out)
                        opts = msgspec.structs.replace(self.options, quality=quality, format=fmt.value)
                        jobs.append((width, EncodeJob(raster, fmt.value, opts, self.deadline)))
        # Largest first: the long encodes start early and the small ones fill in around them.
        jobs.sort(key=lambda item: -(item[1].raster.width * item[1].raster.height))
        return jobs

    async def outputs(self) -> AsyncIterator[BatchOutput]:
        """Yield outputs in completion order. Raises before the first yield on bad input."""
        prepared = await self._prepare()
        self.original = prepared[0]
        pool = self.engine.pool
        pending = {
            asyncio.ensure_future(pool.run(run_encode, job, self.deadline)): width
            for width, job in self._encode_jobs(prepared)
        }
        try:
            while pending:
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    width = pending.pop(task)
                    with count_search(self.options):
                        encoded: Encoded = task.result()
                    metrics.record_conversion(self.original.input_type, encoded.format, 0, len(encoded.data),
                                              None, encoded.encode_seconds)
                    metrics.record_search(self.options.max_bytes, self.options.min_score, encoded.format,
                                          encoded.attempts)
                    yield BatchOutput(width, encoded.width, encoded.height, encoded.quality, encoded.format,
                                      encoded.data, encoded.score)
        finally:
            for task in pending:
                task.cancel()
        metrics.INPUT_BYTES.inc(len(self.data))


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


def output_name(stem: str, width: int, height: int, quality: int | None, fmt: OutputFormat) -> str:
    q = f"_q{quality}" if quality is not None else ""
    return f"{stem}_{width}x{height}{q}.{fmt.extension}"


def dedupe(values: Sequence[int | None]) -> tuple[int | None, ...]:
    return tuple(dict.fromkeys(values))
