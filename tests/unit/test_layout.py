"""A grid's request and layout: sizes, decode groups and raster names, before any pixel."""

from __future__ import annotations

import pytest

from service.grid.layout import Grid, GridRequest, check_grid_size, layout_grid, output_name, raster_name
from service.imaging.errors import OptionError
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed

JPEG, WEBP = OutputFormat.JPEG, OutputFormat.WEBP


def test_the_grid_counts_every_combination_and_refuses_past_the_limit():
    grid = Grid((100, 200, 300), (50, 80), (JPEG, WEBP))
    assert grid.count == 12
    check_grid_size(grid, 12)
    with pytest.raises(OptionError) as refused:
        check_grid_size(grid, 11)
    assert refused.value.field == "widths" and "3 x 2 x 2 = 12" in str(refused.value)


def test_raster_names_are_the_job_layouts():
    # names on shared storage: a replica of the previous version reads the same files
    assert raster_name(0, 320) == "g0-320.v" and raster_name(2, None) == "g2-orig.v"


def test_a_jpeg_grid_splits_its_decodes_and_names_each_raster_once():
    request = GridRequest(ConvertOptions(), Grid((3840, 480, 240, 5000), (80,), (JPEG, WEBP)))
    layout = layout_grid(Probed("jpeg", 3840, 2400, False), request, max_groups=2)
    # 1/4 and 1/8 shrink-on-load would make three decodes: two workers get two, smallest merged down
    assert [g.widths for g in layout.groups] == [(5000, 3840), (480, 240)]
    # 5000 past the original gives the 3840 outputs again: made once, from the smallest width asking
    assert len(layout.outputs) == 3 * 2
    assert {(o.width, o.height) for o in layout.outputs} == {(3840, 2400), (480, 300), (240, 150)}
    for index in range(len(layout.groups)):
        rasters = layout.rasters(index)
        assert [w for w, _ in rasters] == list(dict.fromkeys(o.requested_width for o in layout.outputs_of(index)))
        assert all(name == raster_name(index, w) for w, name in rasters)
    assert {o.width: o.group for o in layout.outputs} == {3840: 0, 480: 1, 240: 1}


def test_a_png_grid_decodes_once():
    request = GridRequest(ConvertOptions(format="png"), Grid((100, 200), (None,), (OutputFormat.PNG,)))
    layout = layout_grid(Probed("png", 400, 200, True), request, max_groups=4)
    assert len(layout.groups) == 1
    assert layout.rasters(0) == ((200, "g0-200.v"), (100, "g0-100.v"))


def test_output_names_carry_size_quality_and_extension():
    assert output_name("cat", 320, 200, 80, JPEG) == "cat_320x200_q80.jpg"
    assert output_name("cat", 320, 200, None, WEBP) == "cat_320x200.webp"
