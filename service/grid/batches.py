"""A batch: one upload made into a grid within the request, over a private scratch directory."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from .. import metrics
from ..engine import Engine
from ..imaging.errors import Allowed, OptionError
from ..imaging.formats import OutputFormat
from ..imaging.groups import estimate_seconds
from ..pool import Lane
from .executor import GridExecutor
from .layout import GridLayout, GridRequest, check_output_pixels, layout_grid, output_name

__all__ = ["Batch", "BatchOutput"]


class BatchOutput(msgspec.Struct, frozen=True):
    name: str  # {stem}_{w}x{h}[_q{q}].{ext}, as a job names the same output
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    data: bytes
    score: float | None = None


class Batch:
    """One upload, every width x quality x format, in the request. The decode groups run in
    parallel, each writing its scaled rasters as files into a scratch directory; each encode
    reads its raster file as soon as that group is done (grid/executor.py), so the server
    process never holds pixels, only finished outputs on their way into the response. The
    admission ticket lives exactly as long as `outputs()` runs."""

    def __init__(self, engine: Engine, data: bytes, request: GridRequest, stem: str = "image") -> None:
        self.engine = engine
        self.data = data
        self.request = request
        self.stem = stem
        self.deadline = engine.deadline_from_now()
        self.layout: GridLayout | None = None

    async def outputs(self) -> AsyncGenerator[BatchOutput, None]:
        """Yield outputs in completion order. Raises before the first yield on bad input or on a
        batch that cannot finish before the deadline (use a job for those)."""
        engine = self.engine
        async with engine.admission(batch=True), _scratch() as scratch:
            probed = await engine.probe(self.data, self.deadline, Lane.BATCH)
            layout = self.layout = layout_grid(probed, self.request, engine.pool.size)
            check_output_pixels(layout, engine.limits.max_batch_output_pixels, "batch", "MAX_BATCH_OUTPUT_PIXELS")
            self._refuse_if_too_slow(layout)
            input_path = os.path.join(scratch, "input")
            await asyncio.to_thread(_write, input_path, self.data)
            executor = GridExecutor(engine.pool, engine.limits, Lane.BATCH)
            async for out, encoded in executor.run_grid(
                layout, self.request.options, input_path, scratch, self.deadline
            ):
                fmt = OutputFormat(encoded.format)
                yield BatchOutput(
                    output_name(self.stem, encoded.width, encoded.height, encoded.quality, fmt),
                    out.requested_width,
                    encoded.width,
                    encoded.height,
                    encoded.quality,
                    encoded.format,
                    encoded.data,
                    encoded.score,
                )
        metrics.INPUT_BYTES.inc(len(self.data))

    def _refuse_if_too_slow(self, layout: GridLayout) -> None:
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
                Allowed("limit", maximum=settings.request_deadline_seconds, unit="seconds"),
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
