"""A batch on a real pool: its outputs, its scratch directory, and its refusals before any decode."""

from __future__ import annotations

import glob
import os
import tempfile

import pytest
from realpool import photo_jpeg, with_engine

from service.engine import Engine
from service.grid.batches import Batch, BatchOutput
from service.grid.layout import Grid, GridRequest
from service.imaging.errors import ImageError, OptionError
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions

SOURCE = photo_jpeg(800, 600)


def scratch_dirs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "imageconv-batch-*")))


def grid(widths, qualities=(None,), formats=(OutputFormat.JPEG,), **options) -> GridRequest:
    return GridRequest(ConvertOptions(**options), Grid(tuple(widths), tuple(qualities), tuple(formats)))


def test_every_output_comes_back_and_the_scratch_directory_goes():
    before = scratch_dirs()

    async def body(engine: Engine) -> list[BatchOutput]:
        batch = Batch(engine, SOURCE, grid((800, 400, 100), (40, 80), (OutputFormat.JPEG, OutputFormat.WEBP)))
        outputs = [out async for out in batch.outputs()]
        assert batch.layout is not None and batch.layout.probed.width == 800
        assert engine.pool.admitted == 0
        return outputs

    outputs = with_engine(body)
    assert len(outputs) == 12
    assert {(o.requested_width, o.width, o.height) for o in outputs} == {
        (800, 800, 600),
        (400, 400, 300),
        (100, 100, 75),
    }
    small = {(o.quality, o.format): len(o.data) for o in outputs if o.width == 400}
    assert small[(40, "jpeg")] < small[(80, "jpeg")] and small[(40, "webp")] < small[(80, "webp")]
    assert scratch_dirs() <= before


def test_a_client_that_leaves_withdraws_the_batch_and_its_scratch():
    before = scratch_dirs()

    async def body(engine: Engine) -> None:
        outputs = Batch(engine, SOURCE, grid((800, 700, 600, 500, 400), (30, 50, 70, 90))).outputs()
        await anext(outputs)
        assert scratch_dirs() - before  # the batch is running in its scratch directory
        await outputs.aclose()
        assert engine.pool.admitted == 0

    with_engine(body)
    assert scratch_dirs() <= before


def test_refusals_come_before_any_decode():
    async def body(engine: Engine) -> None:
        with pytest.raises(ImageError) as too_many_pixels:
            await anext(Batch(engine, SOURCE, grid((800, 700, 600))).outputs())
        assert "MAX_BATCH_OUTPUT_PIXELS" in str(too_many_pixels.value)
        with pytest.raises(OptionError) as too_slow:
            await anext(
                Batch(engine, SOURCE, grid((160,), range(10, 100, 10), (OutputFormat.AVIF,), effort=9)).outputs()
            )
        assert "POST /api/jobs" in str(too_slow.value)

    with_engine(body, max_batch_output_pixels=1_000_000, request_deadline_seconds=0.1)
