"""The grid tasks as a worker runs them (a real pool, real libvips): the probe, a decode group
writing its rasters, an encode handing back bytes or a temporary file, the deadline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import pyvips
from realpool import photo_jpeg, with_engine

from service.engine import Engine
from service.errors import DEADLINE, UNPROCESSABLE
from service.imaging.errors import ImageError
from service.imaging.gridwork import run_decode_group, run_encode_file, run_probe
from service.imaging.options import ConvertOptions
from service.imaging.tasks import DecodeGroupTask, EncodeFileTask, ProbeTask, RasterTarget

SOURCE = photo_jpeg(640, 480)
LATER = time.time() + 3600


def test_the_probe_reads_the_header_and_validation_finds_a_cut_file_without_decoding():
    async def body(engine: Engine) -> None:
        probed = await engine.pool.run(run_probe, ProbeTask(SOURCE, engine.limits, LATER), LATER)
        assert (probed.input_type, probed.width, probed.height) == ("jpeg", 640, 480)
        truncated = SOURCE[: len(SOURCE) // 4]
        assert (await engine.pool.run(run_probe, ProbeTask(truncated, engine.limits, LATER), LATER)).width == 640
        with pytest.raises(ImageError) as corrupt:
            await engine.pool.run(run_probe, ProbeTask(truncated, engine.limits, LATER, validate=True), LATER)
        assert corrupt.value.code is UNPROCESSABLE

    with_engine(body, workers=1)


def test_a_group_writes_every_raster_and_encodes_read_them(tmp_path: Path):
    (tmp_path / "input").write_bytes(SOURCE)
    targets = (RasterTarget(None, str(tmp_path / "g0-orig.v")), RasterTarget(160, str(tmp_path / "g0-160.v")))

    async def body(engine: Engine) -> None:
        group = DecodeGroupTask(str(tmp_path / "input"), ConvertOptions(), targets, engine.limits, LATER)
        decoded = await engine.pool.run(run_decode_group, group, LATER)
        assert decoded.input_type == "jpeg" and decoded.decode_seconds > 0
        assert sorted(p.name for p in tmp_path.iterdir()) == ["g0-160.v", "g0-orig.v", "input"]
        small = pyvips.Image.new_from_file(targets[1].path)
        assert (small.width, small.height) == (160, 120)

        options = ConvertOptions(format="webp", quality=50)
        back = await engine.pool.run(run_encode_file, EncodeFileTask(targets[1].path, "webp", options, LATER), LATER)
        assert back.data[8:12] == b"WEBP" and back.size == len(back.data) and back.written is None
        out = tmp_path / "outputs"
        out.mkdir()
        task = EncodeFileTask(targets[0].path, "webp", options, LATER, output_dir=str(out))
        written = await engine.pool.run(run_encode_file, task, LATER)
        assert written.data == b"" and written.written is not None
        assert Path(written.written).parent == out and Path(written.written).stat().st_size == written.size

    with_engine(body, workers=1)


def test_a_task_past_its_deadline_does_not_start(tmp_path: Path):
    (tmp_path / "input").write_bytes(SOURCE)
    past = time.time() - 1

    async def body(engine: Engine) -> None:
        task = DecodeGroupTask(
            str(tmp_path / "input"), ConvertOptions(), (RasterTarget(100, str(tmp_path / "r.v")),), engine.limits, past
        )
        with pytest.raises(ImageError) as late:
            await engine.pool.run(run_decode_group, task, LATER)
        assert late.value.code is DEADLINE and not (tmp_path / "r.v").exists()

    with_engine(body, workers=1)
