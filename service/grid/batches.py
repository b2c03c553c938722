"""A batch: one upload made into a grid in the request, over a private scratch directory."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from .. import metrics
from ..engine import Engine, count_search, searched
from ..imaging.errors import ErrorKind, ImageError, OptionError
from ..imaging.gridwork import run_decode_group, run_encode_file
from ..imaging.groups import PlannedOutput, encode_seconds, estimate_seconds
from ..imaging.tasks import DecodedGroup, DecodeGroupTask, Encoded, EncodeFileTask, RasterTarget
from ..pool import Lane
from .layout import BatchLayout, BatchRequest, _raster_path, _used_widths, layout_batch


class BatchOutput(msgspec.Struct, frozen=True):
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    data: bytes
    score: float | None = None


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
