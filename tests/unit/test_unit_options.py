"""The option table and resize planning, without HTTP or libvips."""

from __future__ import annotations

import pytest

from service.imaging.encoders import saver_call
from service.imaging.errors import OptionError
from service.imaging.formats import OutputFormat
from service.imaging.options import accepted_formats, parse_options
from service.imaging.plan import plan_resize


def test_defaults():
    o = parse_options({})
    assert (o.format, o.fit, o.enlarge, o.width, o.height, o.quality) == ("jpeg", "inside", False, None, None, None)


def test_every_jpeg_flag_maps_to_its_libvips_parameter():
    o = parse_options({"format": "jpeg", "quality": "77", "progressive": "true", "optimize_scans": "true",
                       "trellis_quant": "true", "overshoot_deringing": "true", "optimize_coding": "false",
                       "quant_table": "3", "chroma_subsampling": "4:4:4"})
    saver, params = saver_call(OutputFormat.JPEG, o)
    assert saver == "jpegsave_buffer"
    assert params == {"Q": 77, "interlace": True, "optimize_scans": True, "trellis_quant": True,
                      "overshoot_deringing": True, "optimize_coding": False, "quant_table": 3,
                      "subsample_mode": "off", "keep": 0}


def test_option_for_another_format_is_refused():
    with pytest.raises(OptionError) as err:
        parse_options({"format": "webp", "trellis_quant": "true"})
    assert err.value.field == "trellis_quant" and "jpeg" in err.value.allowed


def test_same_option_name_has_per_format_ranges():
    assert parse_options({"format": "webp", "effort": "6"}).effort == 6
    with pytest.raises(OptionError):
        parse_options({"format": "webp", "effort": "9"})
    assert parse_options({"format": "avif", "effort": "9"}).effort == 9


def test_max_dimension_setting_lowers_the_limit():
    with pytest.raises(OptionError) as err:
        parse_options({"width": "5000"}, max_dimension=4000)
    assert "4000" in err.value.allowed


@pytest.mark.parametrize(("header", "expected"), [
    (None, ()), ("*/*", ()), ("image/avif,image/webp", ("avif", "webp")),
    ("image/webp;q=0.9, image/avif;q=0", ("webp",)), ("IMAGE/AVIF", ("avif",)),
])
def test_accept_parsing(header, expected):
    assert accepted_formats(header) == expected


@pytest.mark.parametrize(("params", "box", "canvas"), [
    ({"width": "400"}, (400, 300), (400, 300)),
    ({"height": "150"}, (200, 150), (200, 150)),
    ({"width": "400", "height": "400"}, (400, 400), (400, 300)),
    ({"width": "400", "height": "400", "fit": "cover"}, (400, 400), (400, 400)),
    ({"width": "400", "height": "400", "fit": "contain"}, (400, 400), (400, 400)),
    ({"width": "4000"}, None, (800, 600)),  # no enlargement
    ({"width": "1600", "enlarge": "true"}, None, (1600, 1200)),
])
def test_resize_plans(params, box, canvas):
    plan = plan_resize(800, 600, parse_options(params))
    assert (plan.canvas_width, plan.canvas_height) == canvas
    if box:
        assert plan.width == box[0]
