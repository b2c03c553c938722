"""The grid executor on a real pool with real libvips: decode groups write raster files, encodes
read them (bytes back, or a temporary file for a job), metrics are recorded once, and a whole
layout runs over one directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import pyvips
from realpool import photo_jpeg, sample, with_engine

from service import metrics
from service.engine import Engine
from service.grid.executor import GridExecutor, encode_cost
from service.grid.layout import Grid, GridRequest, layout_grid
from service.imaging.errors import ImageError
from service.imaging.formats import OutputFormat
from service.imaging.groups import PlannedOutput
from service.imaging.options import ConvertOptions
from service.imaging.tasks import RasterTarget
from service.pool import Lane

SOURCE = photo_jpeg(1200, 800)


def test_encode_cost_is_unknown_for_a_search_and_doubled_for_a_score():
    out = PlannedOutput(1000, 1000, 1000, 80, OutputFormat.WEBP, 0)
    plain = encode_cost(out, ConvertOptions())
    assert plain is not None and plain > 0
    assert encode_cost(out, ConvertOptions(score=True)) == 2 * plain
    assert encode_cost(out, ConvertOptions(max_bytes=1000)) is None
    assert encode_cost(out, ConvertOptions(min_score=0.9)) is None


def test_a_decode_group_writes_its_rasters_and_an_encode_reads_one(tmp_path: Path):
    source = tmp_path / "input"
    source.write_bytes(SOURCE)
    targets = [RasterTarget(600, str(tmp_path / "g0-600.v")), RasterTarget(300, str(tmp_path / "g0-300.v"))]

    async def body(engine: Engine) -> None:
        executor = GridExecutor(engine.pool, engine.limits, Lane.BACKGROUND)
        deadline = engine.deadline_from_now()
        decodes = sample(metrics.DECODE_SECONDS, "jpeg")
        decoded = await executor.decode(str(source), ConvertOptions(), 600, targets, deadline)
        assert decoded.input_type == "jpeg" and sample(metrics.DECODE_SECONDS, "jpeg") == decodes + 1
        sizes = {t.width: pyvips.Image.new_from_file(t.path) for t in targets}
        assert {w: (i.width, i.height) for w, i in sizes.items()} == {600: (600, 400), 300: (300, 200)}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["g0-300.v", "g0-600.v", "input"]  # no temporaries

        encodes = sample(metrics.CONVERSIONS, "png", suffix="_total")
        back = await executor.encode(targets[1].path, ConvertOptions(), None, OutputFormat.PNG, "jpeg", deadline)
        assert back.data.startswith(b"\x89PNG") and (back.width, back.height) == (300, 200)
        assert back.size == len(back.data) and back.written is None
        assert sample(metrics.CONVERSIONS, "png", suffix="_total") == encodes + 1

        written = await executor.encode(
            targets[0].path,
            ConvertOptions(score=True),
            70,
            OutputFormat.JPEG,
            "jpeg",
            deadline,
            output_dir=str(tmp_path),
        )
        assert written.data == b"" and written.written is not None and os.path.dirname(written.written) == str(tmp_path)
        assert Path(written.written).stat().st_size == written.size > 0
        assert written.quality == 70 and written.score is not None and 0 < written.score <= 1

    with_engine(body)


def test_a_failed_decode_is_the_callers_error(tmp_path: Path):
    (tmp_path / "input").write_bytes(SOURCE[: len(SOURCE) // 3])  # truncated

    async def body(engine: Engine) -> None:
        executor = GridExecutor(engine.pool, engine.limits, Lane.BATCH)
        with pytest.raises(ImageError):
            await executor.decode(
                str(tmp_path / "input"),
                ConvertOptions(),
                100,
                [RasterTarget(100, str(tmp_path / "r.v"))],
                engine.deadline_from_now(),
            )
        assert not (tmp_path / "r.v").exists()

    with_engine(body, workers=1)


def test_run_grid_makes_every_output_of_a_layout(tmp_path: Path):
    (tmp_path / "input").write_bytes(SOURCE)
    request = GridRequest(ConvertOptions(), Grid((1200, 300, 150, 2000), (50, 80), (OutputFormat.WEBP,)))

    async def body(engine: Engine) -> None:
        probed = await engine.probe(SOURCE, engine.deadline_from_now())
        layout = layout_grid(probed, request, engine.pool.size)
        assert len(layout.groups) == 2  # 300 and 150 shrink on load (1/2, 1/4): a second decode
        executor = GridExecutor(engine.pool, engine.limits, Lane.BATCH)
        made = [
            (out, encoded)
            async for out, encoded in executor.run_grid(
                layout, request.options, str(tmp_path / "input"), str(tmp_path), engine.deadline_from_now()
            )
        ]
        assert sorted((o.width, o.quality) for o, _ in made) == sorted((o.width, o.quality) for o in layout.outputs)
        for out, encoded in made:
            assert (encoded.width, encoded.height, encoded.quality) == (out.width, out.height, out.quality)
            assert pyvips.Image.new_from_buffer(encoded.data, "").width == out.width
        rasters = {name for i in range(len(layout.groups)) for _, name in layout.rasters(i)}
        assert {p.name for p in tmp_path.iterdir()} == rasters | {"input"}

    with_engine(body)
