"""A job's manifest from a grid's layout: every output named and sized, every raster named once."""

from __future__ import annotations

import msgspec

from service.grid.layout import Grid, GridRequest, layout_grid, output_name
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed
from service.jobs.manifest import build_manifest
from service.jobs.model import JobManifest

REQUEST = GridRequest(
    ConvertOptions(keep_metadata=True), Grid((3840, 480, 240), (60, 80), (OutputFormat.JPEG, OutputFormat.WEBP))
)
LAYOUT = layout_grid(Probed("jpeg", 3840, 2400, False), REQUEST, max_groups=2)


def test_every_output_is_named_sized_and_fed_by_a_raster_its_decode_writes():
    m = build_manifest("j" * 32, 1000.0, 60.0, REQUEST, LAYOUT, "photo", 12345)
    assert (m.created, m.expires, m.options) == (1000.0, 1060.0, REQUEST.options)
    assert len(m.outputs) == 3 * 2 * 2
    assert len({o.name for o in m.outputs}) == len(m.outputs)
    for planned, out in zip(LAYOUT.outputs, m.outputs, strict=True):
        assert out.name == output_name("photo", planned.width, planned.height, planned.quality, planned.format)
        assert (out.width, out.height, out.format, out.decode) == (
            planned.width,
            planned.height,
            planned.format.value,
            planned.group,
        )
        assert out.raster in m.decodes[out.decode].raster_names()
    assert [d.top for d in m.decodes] == [g.top for g in LAYOUT.groups]
    assert [d.rasters for d in m.decodes] == [LAYOUT.rasters(i) for i in range(len(LAYOUT.groups))]
    assert (m.original.width, m.original.height, m.original.format, m.original.bytes, m.original.name) == (
        3840,
        2400,
        "jpeg",
        12345,
        "photo",
    )


def test_the_manifest_round_trips_as_the_json_on_disk():
    m = build_manifest("j" * 32, 1000.0, 60.0, REQUEST, LAYOUT, "photo", 1)
    assert msgspec.json.decode(msgspec.json.encode(m), type=JobManifest) == m
    # the field names replicas of another version read
    assert set(msgspec.json.decode(msgspec.json.encode(m))) == {
        "id", "created", "expires", "options", "original", "decodes", "outputs", "version", "reserved_bytes"
    }  # fmt: skip
    # reserved_bytes and max_bytes are new: a manifest written without them still reads (0: not recorded)
    old = msgspec.json.decode(msgspec.json.encode(m))
    del old["reserved_bytes"]
    for output in old["outputs"]:
        del output["max_bytes"]
    read = msgspec.json.decode(msgspec.json.encode(old), type=JobManifest)
    assert read.reserved_bytes == 0 and all(o.max_bytes == 0 for o in read.outputs)
    assert m.reserved_bytes > sum(o.max_bytes for o in m.outputs) > 0
