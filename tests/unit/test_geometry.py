"""Resize planning: pure arithmetic from the upright source size and the options."""

from __future__ import annotations

import pytest

from service.imaging.geometry import LIBVIPS_SHRINK_HEADROOM, fit_geometry, jpeg_shrink, upright_size
from service.imaging.parsing import parse_options


@pytest.mark.parametrize(
    ("params", "box", "canvas"),
    [
        ({"width": "400"}, (400, 300), (400, 300)),
        ({"height": "150"}, (200, 150), (200, 150)),
        ({"width": "400", "height": "400"}, (400, 400), (400, 300)),
        ({"width": "400", "height": "400", "fit": "cover"}, (400, 400), (400, 400)),
        ({"width": "400", "height": "400", "fit": "contain"}, (400, 400), (400, 400)),
        ({"width": "4000"}, None, (800, 600)),  # no enlargement
        ({"width": "1600", "enlarge": "true"}, None, (1600, 1200)),
    ],
)
def test_resize_plans(params, box, canvas):
    plan = fit_geometry(800, 600, parse_options(params))
    assert (plan.canvas_width, plan.canvas_height) == canvas
    if box:
        assert plan.width == box[0]


def test_no_size_keeps_the_source():
    plan = fit_geometry(800, 600, parse_options({}))
    assert (plan.width, plan.height, plan.size, plan.crop) == (800, 600, "both", False)
    assert plan.output_pixels == 480_000


def test_contain_pads_the_scaled_image_to_the_box():
    plan = fit_geometry(800, 600, parse_options({"width": "400", "height": "400", "fit": "contain"}))
    assert (plan.width, plan.height, plan.canvas_width, plan.canvas_height) == (400, 300, 400, 400)


def test_fill_stretches_each_axis():
    plan = fit_geometry(800, 600, parse_options({"width": "400", "height": "100", "fit": "fill"}))
    assert (plan.width, plan.height, plan.size) == (400, 100, "force")


def test_outside_covers_the_box_without_cropping():
    plan = fit_geometry(800, 600, parse_options({"width": "400", "height": "400", "fit": "outside"}))
    assert (plan.canvas_width, plan.canvas_height, plan.crop) == (533, 400, False)


def test_cover_crops_the_centre_but_never_beyond_the_source():
    plan = fit_geometry(800, 600, parse_options({"width": "1000", "height": "1000", "fit": "cover"}))
    assert (plan.canvas_width, plan.canvas_height, plan.crop) == (800, 600, True)  # no enlargement: all of it
    plan = fit_geometry(800, 600, parse_options({"width": "200", "height": "50", "fit": "cover"}))
    assert (plan.width, plan.height, plan.crop) == (200, 50, True)


def test_tiny_scales_never_reach_zero_pixels():
    plan = fit_geometry(10_000, 10, parse_options({"width": "1"}))
    assert (plan.canvas_width, plan.canvas_height) == (1, 1)


@pytest.mark.parametrize(
    ("orientation", "size"), [(1, (400, 200)), (3, (400, 200)), (5, (200, 400)), (6, (200, 400)), (8, (200, 400))]
)
def test_upright_size_swaps_for_rotated_orientations(orientation, size):
    assert upright_size(400, 200, orientation) == size


def test_jpeg_shrink_leaves_a_factor_of_two_like_libvips():
    assert [jpeg_shrink(w / 3840) for w in (3840, 1200, 960, 480, 240, 100)] == [1, 1, 2, 4, 8, 8]
    assert LIBVIPS_SHRINK_HEADROOM == 2.0


def test_jpeg_shrink_with_less_headroom_decodes_smaller():
    # 1920 -> 800: libvips (headroom 2) decodes at full size, a headroom of 1.2 at 1/2
    assert jpeg_shrink(800 / 1920) == 1
    assert jpeg_shrink(800 / 1920, 1.2) == 2
    assert jpeg_shrink(400 / 3840, 1.5) == 4 and jpeg_shrink(400 / 3840) == 4
    assert jpeg_shrink(1.0, 1.0) == 1 and jpeg_shrink(0.125, 1.0) == 8
