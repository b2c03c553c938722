"""The conversion engine on a real pool: limits, admission, the probe, one conversion, and the
search count of a max_bytes/min_score search that finds nothing."""

from __future__ import annotations

import time

import pytest
from realpool import photo_jpeg, sample, with_engine

from service import metrics
from service.engine import Engine, count_search, searched
from service.errors import MAX_BYTES_UNREACHABLE, UNPROCESSABLE
from service.imaging.errors import ImageError, TargetUnreachable
from service.imaging.options import ConvertOptions
from service.pool import Lane


def test_limits_and_deadlines_come_from_the_settings():
    async def body(engine: Engine) -> None:
        assert (engine.limits.max_input_pixels, engine.limits.max_output_pixels) == (1_000_000, 50_000_000)
        assert engine.limits.max_batch_output_pixels == engine.settings.max_batch_output_pixels
        assert abs(engine.deadline_from_now() - (time.time() + 7.5)) < 1

    with_engine(body, workers=1, max_input_pixels=1_000_000, request_deadline_seconds=7.5)


def test_probe_convert_and_admission():
    data = photo_jpeg(640, 400)

    async def body(engine: Engine) -> None:
        probed = await engine.probe(data, engine.deadline_from_now(), Lane.BATCH, validate=True)
        assert (probed.input_type, probed.width, probed.height, probed.has_alpha) == ("jpeg", 640, 400, False)
        before = sample(metrics.CONVERSIONS, "webp", suffix="_total")
        converted = await engine.convert(data, ConvertOptions(width=320, format="webp", quality=60))
        assert (converted.format, converted.width, converted.height) == ("webp", 320, 200)
        assert converted.data[8:12] == b"WEBP" and converted.blob is None
        assert sample(metrics.CONVERSIONS, "webp", suffix="_total") == before + 1
        async with engine.admission():
            assert engine.pool.admitted == 1
        assert engine.pool.admitted == 0  # the ticket lives exactly as long as the `async with`

    with_engine(body)


def test_a_probe_over_the_pixel_limit_is_refused_from_the_header():
    async def body(engine: Engine) -> None:
        with pytest.raises(ImageError) as refused:
            await engine.probe(photo_jpeg(1200, 900), engine.deadline_from_now())
        assert refused.value.code is UNPROCESSABLE and "1000000" in str(refused.value)

    with_engine(body, workers=1, max_input_pixels=1_000_000)


def test_an_unreachable_search_still_counts_its_encodes():
    options = ConvertOptions(max_bytes=10)
    assert searched(options) and not searched(ConvertOptions(score=True))
    before = sample(metrics.TARGET_ENCODES, "max_bytes", "avif", suffix="_total")
    with pytest.raises(TargetUnreachable), count_search(options):
        raise TargetUnreachable(MAX_BYTES_UNREACHABLE, "too small", "max_bytes", 6, "avif")
    assert sample(metrics.TARGET_ENCODES, "max_bytes", "avif", suffix="_total") == before + 6
