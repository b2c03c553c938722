"""Server-side orchestration of conversions: admission, deadlines, fan-out, metrics.

Knows the pool and the job messages, not HTTP: the handlers in `api/` translate requests into
these calls and their results into responses. Nothing here touches pixels; workers do.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from . import metrics, transfer
from .imaging.errors import ErrorKind, ImageError, OptionError, TargetUnreachable
from .imaging.formats import OutputFormat
from .imaging.gridwork import run_decode_group, run_encode_file, run_probe
from .imaging.groups import DecodeGroup, PlannedOutput, encode_seconds, estimate_seconds, plan_outputs
from .imaging.options import ConvertOptions
from .imaging.tasks import (
    Converted,
    ConvertTask,
    DecodedGroup,
    DecodeGroupTask,
    Encoded,
    EncodeFileTask,
    Limits,
    Probed,
    ProbeTask,
    RasterTarget,
)
from .imaging.worker import run_convert
from .pool import Lane, Ticket, WorkerPool
from .settings import Settings


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


class BatchRequest(msgspec.Struct, frozen=True):
    """A validated batch (or job): the options every output shares and the grid to make."""

    options: ConvertOptions
    plan: BatchPlan


def check_batch_size(plan: BatchPlan, limit: int) -> None:
    if plan.count > limit:
        raise OptionError(
            "widths",
            f"at most {limit} outputs (widths x qualities x formats)",
            f"{len(plan.widths)} x {len(plan.qualities)} x {len(plan.formats)} = {plan.count}",
        )


class BatchLayout(msgspec.Struct, frozen=True):
    probed: Probed
    groups: tuple[DecodeGroup, ...]
    outputs: tuple[PlannedOutput, ...]


def layout_batch(probed: Probed, request: BatchRequest, max_groups: int) -> BatchLayout:
    plan = request.plan
    groups, outputs = plan_outputs(
        probed.width,
        probed.height,
        probed.input_type,
        request.options,
        plan.widths,
        plan.qualities,
        plan.formats,
        max_groups,
    )
    return BatchLayout(probed, groups, outputs)


class Batch:
    """One upload, every width x quality x format, in the request. The decode groups run in
    parallel (groups.py), each writing its scaled rasters as files into a scratch directory; each
    encode reads its raster file as soon as that group is done, so the server process never
    holds pixels, only finished outputs on their way into the response. The admission ticket
    lives exactly as long as `outputs()` runs."""

    def __init__(self, engine: Engine, data: bytes, request: BatchRequest) -> None:
        self.engine = engine
        self.data = data
        self.request = request
        self.deadline = engine.deadline_from_now()
        self.layout: BatchLayout | None = None

    async def outputs(self) -> AsyncGenerator[BatchOutput, None]:
        """Yield outputs in completion order. Raises before the first yield on bad input or on a
        batch that cannot finish before the deadline (use a job for those)."""
        engine = self.engine
        async with engine.admission(batch=True), _scratch() as scratch:
            probed = await engine.probe(self.data, self.deadline, Lane.BATCH)
            layout = self.layout = layout_batch(probed, self.request, engine.pool.size)
            _check_output_pixels(layout, engine.limits.max_batch_output_pixels)
            self._refuse_if_too_slow(layout)
            input_path = os.path.join(scratch, "input")
            await asyncio.to_thread(_write, input_path, self.data)
            async for out in self._run(layout, input_path, scratch):
                yield out
        metrics.INPUT_BYTES.inc(len(self.data))

    def _refuse_if_too_slow(self, layout: BatchLayout) -> None:
        settings = self.engine.settings
        seconds = estimate_seconds(
            layout.probed.width * layout.probed.height, layout.groups, layout.outputs, self.engine.pool.batch_workers
        )
        if seconds > settings.request_deadline_seconds:
            raise OptionError(
                "widths",
                f"a batch that finishes within the {settings.request_deadline_seconds:g} s request deadline; "
                "submit larger grids as a job (POST /api/jobs)",
                f"{len(layout.outputs)} outputs, about {seconds:.0f} s of work",
            )

    async def _run(self, layout: BatchLayout, input_path: str, scratch: str) -> AsyncGenerator[BatchOutput, None]:
        pool, options, deadline = self.engine.pool, self.request.options, self.deadline
        decodes: dict[asyncio.Future[Any], int] = {
            asyncio.ensure_future(
                pool.run(
                    run_decode_group,
                    DecodeGroupTask(
                        input_path,
                        msgspec.structs.replace(options, width=group.top),
                        tuple(RasterTarget(w, _raster_path(scratch, i, w)) for w in _used_widths(layout, i)),
                        self.engine.limits,
                        deadline,
                    ),
                    deadline,
                    lane=Lane.BATCH,
                )
            ): i
            for i, group in enumerate(layout.groups)
        }
        encodes: dict[asyncio.Future[Any], PlannedOutput] = {}
        try:
            while decodes or encodes:
                done, _ = await asyncio.wait([*decodes, *encodes], return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task in decodes:
                        group = decodes.pop(task)
                        decoded: DecodedGroup = task.result()
                        metrics.DECODE_SECONDS.labels(decoded.input_type).observe(decoded.decode_seconds)
                        for out in (o for o in layout.outputs if o.group == group):
                            opts = msgspec.structs.replace(options, quality=out.quality, format=out.format.value)
                            job = EncodeFileTask(
                                _raster_path(scratch, group, out.requested_width), out.format.value, opts, deadline
                            )
                            # A quality search makes several encodes: its cost is not known up front.
                            cost = None if searched(opts) else encode_seconds(out) * (2 if opts.score else 1)
                            encodes[
                                asyncio.ensure_future(
                                    pool.run(run_encode_file, job, deadline, lane=Lane.BATCH, cost=cost)
                                )
                            ] = out
                        continue
                    out = encodes.pop(task)
                    with count_search(options):
                        encoded: Encoded = task.result()
                    metrics.record_conversion(
                        layout.probed.input_type, encoded.format, 0, len(encoded.data), None, encoded.encode_seconds
                    )
                    metrics.record_search(options.max_bytes, options.min_score, encoded.format, encoded.attempts)
                    yield BatchOutput(
                        out.requested_width,
                        encoded.width,
                        encoded.height,
                        encoded.quality,
                        encoded.format,
                        encoded.data,
                        encoded.score,
                    )
        finally:
            for pending in [*decodes, *encodes]:
                pending.cancel()  # a client that left withdraws what has not started


def _check_output_pixels(layout: BatchLayout, limit: int) -> None:
    """MAX_BATCH_OUTPUT_PIXELS: the batch's outputs summed, refused from the plan before any decode."""
    total = sum(o.pixels for o in layout.outputs)
    if limit and total > limit:
        raise ImageError(
            ErrorKind.UNPROCESSABLE,
            f"The batch's outputs add up to {total} pixels ({len(layout.outputs)} outputs), over the limit of "
            f"{limit} pixels (MAX_BATCH_OUTPUT_PIXELS); ask for fewer or smaller outputs",
            "widths",
        )


def _used_widths(layout: BatchLayout, group: int) -> tuple[int | None, ...]:
    """The group's widths some output is made from (a width whose size repeats another's is not)."""
    return tuple(dict.fromkeys(o.requested_width for o in layout.outputs if o.group == group))


def _raster_path(scratch: str, group: int, width: int | None) -> str:
    return os.path.join(scratch, f"g{group}-{'orig' if width is None else width}.v")


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


@asynccontextmanager
async def _scratch() -> AsyncIterator[str]:
    """A private directory for one batch's input and rasters, removed however the batch ends."""
    path = await asyncio.to_thread(tempfile.mkdtemp, prefix="imageconv-batch-")
    try:
        yield path
    finally:
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, path, True))


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
