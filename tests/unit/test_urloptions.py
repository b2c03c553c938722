"""service/imgurl/urloptions.py: imgproxy's options, short forms, presets, and refusals naming the option."""

from __future__ import annotations

import pytest

from service.imaging.options import OPTION_BY_NAME
from service.imgurl.errors import InvalidUrlOption
from service.imgurl.urloptions import (
    NOT_YET,
    URL_OPTIONS,
    UrlOptions,
    parse_presets,
    parse_url_options,
    preset_table,
)


def test_defaults_are_imgproxys() -> None:
    assert parse_url_options(()) == UrlOptions()
    assert UrlOptions().resizing_type == "fit" and UrlOptions().strip_metadata


def test_long_and_short_names_mean_the_same() -> None:
    long = parse_url_options(["resize:fill:300:400:1:0", "quality:70", "format:webp", "strip_metadata:false"])
    short = parse_url_options(["rs:fill:300:400:t:f", "q:70", "f:webp", "sm:0"])
    assert long == short
    assert long.resizing_type == "fill" and (long.width, long.height) == (300, 400)
    assert long.enlarge and not long.extend and long.quality == 70 and long.format == "webp"
    assert not long.strip_metadata


def test_empty_arguments_keep_defaults_and_later_options_win() -> None:
    options = parse_url_options(["rs:fill::400", "w:120", "s:::1"])
    assert (options.resizing_type, options.width, options.height, options.enlarge) == ("fill", 120, 400, True)


def test_every_option_parses_its_own_values() -> None:
    options = parse_url_options(
        [
            "rt:force",
            "dpr:2.5",
            "el:1",
            "ex:1:ce",
            "ext:jpg",
            "mb:5000",
            "min_score:0.9",
            "score:true",
            "cb:v2",
            "exp:1700000000",
            "fn:my%20photo",
            "att:1",
            "ar:1",
        ]
    )
    assert options.resizing_type == "force" and options.dpr == 2.5 and options.extend
    assert options.format == "jpg" and options.max_bytes == 5000 and options.min_score == 0.9 and options.score
    assert options.cachebuster == "v2" and options.expires == 1700000000
    assert options.filename == "my photo" and options.attachment


def test_base64_filenames() -> None:
    assert parse_url_options(["fn:7IKs7KeE:1"]).filename == "사진"
    with pytest.raises(InvalidUrlOption):
        parse_url_options(["fn:!!!:1"])


@pytest.mark.parametrize(
    ("segment", "option"),
    [
        ("rs:stretch:1:1", "resize"),
        ("w:abc", "width"),
        ("w:-5", "width"),
        ("w:99999", "width"),
        ("q:101", "quality"),
        ("dpr:0", "dpr"),
        ("el:maybe", "enlarge"),
        ("f:gif", "format"),
        ("min_score:1.5", "min_score"),
        ("rs:fit:1:2:0:0:extra", "resize"),
        ("rs", "resize"),
        ("ex:1:no", "extend"),
        ("ar:0", "auto_rotate"),
        ("g:sm", "g"),  # imgproxy's, not done yet
        ("bogus:1", "bogus"),
    ],
)
def test_refusals_name_the_option_what_it_accepts_and_what_came(segment: str, option: str) -> None:
    with pytest.raises(InvalidUrlOption) as err:
        parse_url_options([segment])
    assert err.value.field == option and err.value.status == 422 and err.value.expected


def test_not_yet_options_say_so() -> None:
    with pytest.raises(InvalidUrlOption, match="not this one, yet"):
        parse_url_options(["watermark:0.5"])
    assert {"gravity", "crop", "background", "blur", "sharpen", "rotate", "flip", "watermark"} <= NOT_YET


def test_ranges_come_from_the_option_table() -> None:
    width = next(a for o in URL_OPTIONS if o.name == "width" for a in o.args)
    assert width.maximum == OPTION_BY_NAME["width"].domains[0].maximum and width.minimum == 0
    quality = next(a for o in URL_OPTIONS if o.name == "quality" for a in o.args)
    assert quality.maximum == 100 and quality.option == "quality"
    names = [n for o in URL_OPTIONS for n in o.names]
    assert len(names) == len(set(names)) and not set(names) & NOT_YET


def test_presets_apply_in_place_default_first_and_recorded() -> None:
    table = preset_table(["default=q:60/sm:0", "thumb=rs:fill:100:100", "sq=pr:thumb/f:png"])
    options = parse_url_options(["q:90", "pr:sq"], table)
    assert options.quality == 90 and not options.strip_metadata
    assert (options.width, options.format, options.presets) == (100, "png", ("default", "sq", "thumb"))
    assert parse_url_options(["pr:thumb", "w:50"], table).width == 50  # later URL options override
    only = parse_url_options(["thumb:sq"], table, only_presets=True)
    assert only.width == 100 and only.format == "png"


def test_unknown_and_looping_presets_are_refused() -> None:
    with pytest.raises(InvalidUrlOption, match="a preset of URL_PRESETS"):
        parse_url_options(["pr:nope"], {})
    loop = preset_table(["a=pr:b", "b=pr:a"])
    with pytest.raises(InvalidUrlOption, match="nested"):
        parse_url_options(["pr:a"], loop)


def test_url_presets_setting_is_checked_when_read() -> None:
    assert parse_presets("thumb=rs:fill:100:100/q:70, big=w:2000") == ("thumb=rs:fill:100:100/q:70", "big=w:2000")
    assert parse_presets("") == ()
    for bad in ("thumb", "=w:1", "thumb=w:abc", "thumb=pr:missing", "a b=w:1"):
        with pytest.raises(ValueError):
            parse_presets(bad)
