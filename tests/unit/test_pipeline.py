"""Each pipeline step on real libvips, in the order they run:
probe -> fit_geometry -> load -> to_srgb -> pad_to_canvas -> choose_format -> flatten_for -> encode."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
import pyvips
from apihelpers import decode, jpeg, oriented_jpeg, png_declaring, thin_png, with_alpha_png

from service.errors import UNPROCESSABLE, UNSUPPORTED_MEDIA
from service.imaging import encoders, pipeline
from service.imaging.errors import ImageError
from service.imaging.formats import OutputFormat
from service.imaging.geometry import fit_geometry
from service.imaging.parsing import parse_options
from service.settings import Settings

LIMITS = Settings().limits  # the service's defaults


def test_probe_reads_the_header_upright():
    source = pipeline.probe(oriented_jpeg(6), LIMITS)
    assert (source.input_type, source.width, source.height, source.orientation) == ("jpeg", 200, 400, 6)
    assert not source.has_alpha
    assert pipeline.probe(with_alpha_png(), LIMITS).has_alpha


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"%PDF-1.4 ...", "PDF"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"hello", None),
    ],
)
def test_probe_refuses_types_we_do_not_open(data, named):
    with pytest.raises(ImageError) as err:
        pipeline.probe(data, LIMITS)
    assert err.value.code is UNSUPPORTED_MEDIA
    if named:
        assert err.value.message.startswith(f"{named} input is not accepted")


def test_probe_refuses_a_pixel_bomb_from_the_header():
    with pytest.raises(ImageError) as err:
        pipeline.probe(png_declaring(60_000, 60_000), LIMITS)
    assert err.value.code is UNPROCESSABLE and "3600000000 pixels" in err.value.message


def test_probe_refuses_a_side_too_long_from_the_header_in_milliseconds():
    tall = thin_png(49_000_000)  # 95 KB, under MAX_INPUT_PIXELS; its decode would take the whole deadline
    assert pyvips.Image.new_from_buffer(tall, "").height == 49_000_000  # a real PNG, not a header alone
    started = time.perf_counter()
    with pytest.raises(ImageError) as err:
        pipeline.probe(tall, LIMITS)
    assert time.perf_counter() - started < 0.1
    assert err.value.code is UNPROCESSABLE and err.value.field == "image"
    assert "1x49000000" in err.value.message and "MAX_INPUT_DIMENSION" in err.value.message


def test_probe_refuses_an_extreme_aspect_ratio_and_keeps_ordinary_ones():
    limits = msgspec.structs.replace(LIMITS, max_input_aspect_ratio=100)
    with pytest.raises(ImageError) as err:
        pipeline.probe(thin_png(1_000, 9), limits)
    assert "MAX_INPUT_ASPECT_RATIO" in err.value.message and "100:1" in err.value.message
    assert pipeline.probe(thin_png(900, 9), limits).height == 900  # exactly at the ratio
    assert pipeline.probe(thin_png(9, 900), limits).width == 900  # either way round
    assert pipeline.probe(thin_png(20_000, 100), LIMITS).height == 20_000  # the defaults keep tall pages


def test_check_whole_finds_a_cut_file_without_decoding():
    photo = jpeg(400, 300)
    image = decode(photo)
    whole = {
        "jpeg": photo + b"trailing bytes some cameras append",
        "png": image.pngsave_buffer(),
        "webp": image.webpsave_buffer(),
        "gif": image.gifsave_buffer(),
    }
    for kind, data in whole.items():
        pipeline.check_whole(data, kind)
        if kind == "gif":
            continue  # not checked here: the decode item fails a cut GIF with its reason
        with pytest.raises(ImageError) as err:
            pipeline.check_whole(data[: len(data) * 3 // 4], kind)
        assert err.value.code is UNPROCESSABLE and "ends early" in err.value.message
    tall = thin_png(49_000_000)
    started = time.perf_counter()
    pipeline.check_whole(tall, "png")
    assert time.perf_counter() - started < 0.1


def test_check_plan_refuses_too_many_output_pixels():
    plan = fit_geometry(100, 100, parse_options({"width": "5000", "enlarge": "true"}))
    with pytest.raises(ImageError) as err:
        pipeline.check_geometry(plan, msgspec.structs.replace(LIMITS, max_output_pixels=1_000_000))
    assert err.value.field == "width"


def test_load_shrinks_on_load_applies_orientation_and_gives_srgb():
    data = oriented_jpeg(6)
    source = pipeline.probe(data, LIMITS)
    plan = fit_geometry(source.width, source.height, parse_options({"width": "100"}))
    image = pipeline.load(data, source, plan)
    assert (image.width, image.height, image.interpretation, image.format) == (100, 200, "srgb", "uchar")
    # orientation 6 turned the red left half into the top half
    top, bottom = image.crop(0, 0, 100, 50).stats()(4, 1)[0], image.crop(0, 150, 100, 50).stats()(4, 1)[0]
    assert top > 200 and bottom < 50


def test_load_refuses_a_truncated_image():
    data = jpeg(400, 300)
    source = pipeline.probe(data, LIMITS)
    with pytest.raises(ImageError) as err:
        pipeline.load(data[: len(data) // 2], source, fit_geometry(400, 300, parse_options({})))
    assert err.value.code is UNPROCESSABLE


def test_to_srgb_converts_other_interpretations():
    grey16 = pyvips.Image.black(8, 8).cast("ushort").copy(interpretation="grey16")
    assert pipeline.to_srgb(grey16).interpretation == "b-w"
    cmyk = pyvips.Image.black(8, 8, bands=4).copy(interpretation="cmyk")
    assert pipeline.to_srgb(cmyk).interpretation == "srgb"


def test_pad_to_canvas_centres_on_transparency():
    image = pyvips.Image.black(40, 30).new_from_image([200, 10, 10]).copy(interpretation="srgb")
    plan = fit_geometry(40, 30, parse_options({"width": "40", "height": "40", "fit": "contain"}))
    padded = pipeline.pad_to_canvas(image, plan)
    assert (padded.width, padded.height, padded.bands) == (40, 40, 4)
    assert padded(20, 1)[3] == 0 and padded(20, 20)[3] == 255


@pytest.mark.parametrize(
    ("fmt", "accepted", "alpha", "chosen"),
    [
        ("webp", (), False, OutputFormat.WEBP),
        ("auto", ("avif", "webp"), False, OutputFormat.AVIF),
        ("auto", ("webp",), True, OutputFormat.WEBP),
        ("auto", (), False, OutputFormat.JPEG),
        ("auto", (), True, OutputFormat.PNG),
    ],
)
def test_choose_format(fmt, accepted, alpha, chosen):
    source = pipeline.Source("png", 10, 10, alpha, False, 1, False)
    assert pipeline.choose_format(parse_options({"format": fmt}, accepted=accepted), source) is chosen


def test_flatten_for_jpeg_composites_on_white():
    clear = pyvips.Image.black(4, 4, bands=4).copy(interpretation="srgb")
    flat = encoders.flatten_for(clear, OutputFormat.JPEG)
    assert flat.bands == 3 and flat(0, 0) == [255.0, 255.0, 255.0]
    assert encoders.flatten_for(clear, OutputFormat.PNG).bands == 4


def test_encode_then_decode_every_format():
    image = pyvips.Image.new_from_buffer(jpeg(64, 48), "")
    for fmt in OutputFormat:
        data = encoders.encode(image, fmt, parse_options({"format": fmt.value}))
        assert (decode(data).width, decode(data).height) == (64, 48), fmt


def test_encode_reports_what_the_encoder_refused():
    too_wide = pyvips.Image.black(16400, 2, bands=3).copy(interpretation="srgb")  # WebP's limit is 16383
    with pytest.raises(ImageError) as err:
        encoders.encode(too_wide, OutputFormat.WEBP, parse_options({"format": "webp"}))
    assert err.value.code is UNPROCESSABLE and "webp encoder refused" in err.value.message


def test_convert_runs_every_step():
    result = pipeline.convert(with_alpha_png(400, 300), parse_options({"width": "200", "format": "jpeg"}), LIMITS)
    assert (result.width, result.height, result.format, result.input_type) == (200, 150, "jpeg", "png")
    assert (result.input_width, result.input_height) == (400, 300)
    assert decode(result.data).get("vips-loader").startswith("jpegload")
