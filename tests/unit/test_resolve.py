"""service/imgurl/resolve.py: imgproxy's resizing types and format choice as one conversion's options."""

from __future__ import annotations

import pytest

from service.imaging.geometry import fit_geometry
from service.imgurl.errors import InvalidUrlOption
from service.imgurl.resolve import (
    SourceFacts,
    canonical,
    needs_source_size,
    negotiated,
    output_format,
    to_convert_options,
    with_extension,
)
from service.imgurl.urloptions import parse_url_options

PHOTO = SourceFacts("jpeg", 1200, 800)


def _size(segments: list[str], facts: SourceFacts = PHOTO) -> tuple[int, int]:
    """The output size the geometry gives for these URL options on this source."""
    options = to_convert_options(parse_url_options(segments), facts, (), 16383)
    assert facts.width is not None and facts.height is not None
    plan = fit_geometry(facts.width, facts.height, options)
    return plan.canvas_width, plan.canvas_height


def test_fit_keeps_the_aspect_within_the_box() -> None:
    assert _size(["rs:fit:300:300"]) == (300, 200)
    assert _size(["w:600"]) == (600, 400)  # height 0: from the aspect ratio
    assert _size(["h:200"]) == (300, 200)
    assert _size(["rs:fit:2400:2400"]) == (1200, 800)  # no enlarging
    assert _size(["rs:fit:2400:2400:1"]) == (2400, 1600)


def test_fill_covers_the_box_and_crops() -> None:
    assert _size(["rs:fill:300:300"]) == (300, 300)
    assert to_convert_options(parse_url_options(["rs:fill:300:300"]), PHOTO, (), 16383).fit == "cover"


def test_fill_down_crops_a_smaller_source_to_the_box_aspect() -> None:
    assert _size(["rs:fill-down:300:300"]) == (300, 300)
    assert _size(["rs:fill-down:2000:1000"]) == (1200, 600)  # 2:1 within 1200x800
    assert _size(["rs:fill-down:1000:2000"]) == (400, 800)
    assert _size(["rs:fill:2000:1000"]) == (1200, 800)  # fill keeps what there is


def test_force_stretches_and_a_zero_side_keeps_the_sources() -> None:
    assert _size(["rs:force:300:300"]) == (300, 300)
    assert _size(["rs:force:300:0"]) == (300, 800)
    assert _size(["rs:force:0:100"]) == (1200, 100)


def test_auto_fills_same_orientation_and_fits_otherwise() -> None:
    assert _size(["rs:auto:300:200"]) == (300, 200)
    assert _size(["rs:auto:300:250"]) == (300, 250)  # both landscape: fill
    assert _size(["rs:auto:200:300"]) == (200, 133)  # portrait box, landscape source: fit


def test_extend_pads_fit_to_the_box() -> None:
    assert _size(["rs:fit:300:300:0:1"]) == (300, 300)
    assert _size(["rs:fit:2000:2000:0:1"]) == (2000, 2000)
    with pytest.raises(InvalidUrlOption) as err:
        _size(["rs:fill:300:300:0:1"])
    assert err.value.field == "extend"


def test_dpr_multiplies_and_is_named_when_it_overflows() -> None:
    assert _size(["w:300", "dpr:2"]) == (600, 400)
    with pytest.raises(InvalidUrlOption) as err:
        to_convert_options(parse_url_options(["w:9000", "dpr:2"]), PHOTO, (), 16383)
    assert err.value.field == "dpr"


def test_which_types_need_the_source_size() -> None:
    assert needs_source_size(parse_url_options(["rs:auto:1:1"]))
    assert needs_source_size(parse_url_options(["rs:fill-down:1:1"]))
    assert needs_source_size(parse_url_options(["rs:force:1:0"]))
    assert not needs_source_size(parse_url_options(["rs:force:1:1"]))
    assert not needs_source_size(parse_url_options(["rs:fill:1:1", "rs:fit"]))
    with pytest.raises(ValueError):
        to_convert_options(parse_url_options(["rs:auto:1:1"]), SourceFacts("jpeg"), (), 16383)


def test_format_from_the_url_else_accept_else_the_source() -> None:
    plain = parse_url_options([])
    assert negotiated(plain, ("avif", "webp")) == "avif" and output_format(plain, ("avif",), PHOTO).value == "avif"
    assert output_format(plain, ("webp",), PHOTO).value == "webp"
    assert negotiated(plain, ()) == "source" and output_format(plain, (), PHOTO).value == "jpeg"
    assert output_format(plain, (), SourceFacts("png")).value == "png"
    assert output_format(plain, (), SourceFacts("heif")).value == "avif"
    assert output_format(plain, (), SourceFacts("gif")).value == "png"
    named = with_extension(plain, "png")
    assert negotiated(named, ("avif",)) is None and output_format(named, ("avif",), PHOTO).value == "png"
    assert with_extension(parse_url_options(["f:webp"]), "png").format == "webp"  # the option wins
    with pytest.raises(InvalidUrlOption) as err:
        with_extension(plain, "gif")
    assert err.value.field == "extension"


def test_the_rest_maps_onto_convert_options() -> None:
    url = parse_url_options(["q:70", "sm:0", "mb:9000", "min_score:0.8", "score:1", "f:webp"])
    options = to_convert_options(url, PHOTO, (), 16383)
    assert (options.quality, options.keep_metadata, options.max_bytes) == (70, True, 9000)
    assert (options.min_score, options.score, options.format) == (0.8, True, "webp")
    defaults = to_convert_options(parse_url_options([]), PHOTO, (), 16383)
    assert defaults.quality is None and defaults.max_bytes is None and not defaults.keep_metadata


def test_canonical_form_ignores_spelling() -> None:
    assert canonical(parse_url_options(["rs:fill:10:20"])) == canonical(parse_url_options(["rt:fill", "w:10", "h:20"]))
    assert canonical(parse_url_options(["cb:1"])) != canonical(parse_url_options(["cb:2"]))
