"""The encoder mapping derived from the option table: every option reaches its libvips parameter,
and every saver call the mapping produces is one libvips accepts."""

from __future__ import annotations

import pytest
import pyvips

from service.imaging.encoders import effective_quality, saver_call
from service.imaging.formats import OutputFormat
from service.imaging.options import CONVERT_OPTIONS, KEEP_ALL, KEEP_NONE
from service.imaging.parsing import parse_options


def test_every_jpeg_flag_maps_to_its_libvips_parameter():
    o = parse_options(
        {
            "format": "jpeg",
            "quality": "77",
            "progressive": "true",
            "optimize_scans": "true",
            "trellis_quant": "true",
            "overshoot_deringing": "true",
            "optimize_coding": "false",
            "quant_table": "3",
            "chroma_subsampling": "4:4:4",
        }
    )
    saver, params = saver_call(OutputFormat.JPEG, o)
    assert saver == "jpegsave_buffer"
    assert params == {
        "Q": 77,
        "interlace": True,
        "optimize_scans": True,
        "trellis_quant": True,
        "overshoot_deringing": True,
        "optimize_coding": False,
        "quant_table": 3,
        "subsample_mode": "off",
        "keep": 0,
    }


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("jpeg", {"Q": 80, "optimize_coding": True, "subsample_mode": "on", "keep": KEEP_NONE}),
        ("png", {"compression": 6, "keep": KEEP_NONE}),
        ("webp", {"Q": 80, "effort": 4, "alpha_q": 100, "keep": KEEP_NONE}),
        ("avif", {"compression": "av1", "Q": 50, "effort": 3, "subsample_mode": "auto", "keep": KEEP_NONE}),
        ("tiff", {"compression": "lzw", "predictor": "horizontal", "keep": KEEP_NONE}),
    ],
)
def test_defaults_per_format(fmt, expected):
    _, params = saver_call(OutputFormat(fmt), parse_options({"format": fmt}))
    assert {k: v for k, v in params.items() if v is not False and k != "quant_table"} == expected


def test_every_option_with_a_libvips_parameter_reaches_it():
    """For each format, a non-default value of each option shows up in the saver's arguments."""
    for spec in CONVERT_OPTIONS:
        for domain in spec.domains:
            if domain.param is None:
                continue
            for fmt in domain.formats:
                if domain.kind == "bool":
                    raw = "false" if domain.default else "true"
                elif domain.choices:
                    raw = next(c for c in domain.choices if c != str(domain.default))
                else:
                    raw = str(domain.minimum if domain.default != domain.minimum else domain.maximum)
                params = {"format": fmt.value, spec.name: raw}
                if fmt is OutputFormat.PNG and spec.name in ("effort",):
                    params["palette"] = "true"  # effort only means something for a palette
                if fmt is OutputFormat.TIFF and spec.name == "quality":
                    params["compression"] = "jpeg"
                options = parse_options(params)
                _, saver_params = saver_call(fmt, options)
                expected = domain.vips_value(options.value(spec.name))  # type: ignore[arg-type]
                assert saver_params.get(domain.param) == expected, (fmt, spec.name, saver_params)


def test_png_quality_or_colours_turn_palette_on():
    _, p = saver_call(OutputFormat.PNG, parse_options({"format": "png", "quality": "60"}))
    assert p["palette"] is True and p["Q"] == 60
    _, p = saver_call(OutputFormat.PNG, parse_options({"format": "png", "colors": "4"}))
    assert p["palette"] is True and p["bitdepth"] == 2 and p["Q"] == 100
    _, p = saver_call(OutputFormat.PNG, parse_options({"format": "png", "quality": "60", "palette": "false"}))
    assert "palette" not in p and "Q" not in p


def test_tiff_quality_only_with_jpeg_compression_and_pyramid_implies_tile():
    _, p = saver_call(OutputFormat.TIFF, parse_options({"format": "tiff", "quality": "60"}))
    assert "Q" not in p
    _, p = saver_call(OutputFormat.TIFF, parse_options({"format": "tiff", "quality": "60", "compression": "jpeg"}))
    assert p["Q"] == 60 and "predictor" not in p
    _, p = saver_call(OutputFormat.TIFF, parse_options({"format": "tiff", "pyramid": "true"}))
    assert p["tile"] is True and p["pyramid"] is True


def test_keep_metadata_and_effective_quality():
    _, p = saver_call(OutputFormat.WEBP, parse_options({"format": "webp", "keep_metadata": "true"}))
    assert p["keep"] == KEEP_ALL
    assert effective_quality(OutputFormat.AVIF, parse_options({"format": "avif"})) == 50
    assert effective_quality(OutputFormat.PNG, parse_options({"format": "png"})) is None


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("which", ["api", "ui"])
def test_libvips_accepts_the_default_saver_calls(fmt, which):
    """Real libvips: the API's and the UI's defaults for each format encode, and decode again."""
    params = {"format": fmt.value}
    if which == "ui":
        for spec in CONVERT_OPTIONS:
            domain = spec.domain_for(fmt)
            value = domain.ui_default if domain else None
            if spec.name != "format" and value is not None:
                params[spec.name] = str(value).lower() if isinstance(value, bool) else str(value)
        params.pop("palette", None)
        params.pop("colors", None)  # a colour count switches PNG palette quantisation on
        if fmt is OutputFormat.PNG:
            params.pop("quality", None)
    image = pyvips.Image.xyz(64, 48)[0].cast("uchar").bandjoin([64, 128]).copy(interpretation="srgb")
    saver, kwargs = saver_call(fmt, parse_options(params))
    data = getattr(image, saver)(**kwargs)
    back = pyvips.Image.new_from_buffer(data, "")
    assert (back.width, back.height) == (64, 48)
