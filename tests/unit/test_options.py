"""The option table and its parser, without HTTP or libvips."""

from __future__ import annotations

import msgspec
import pytest

from service.api.accept import accepted_formats
from service.imaging.errors import MAX_ECHO, OptionError
from service.imaging.formats import OutputFormat
from service.imaging.options import CONVERT_OPTIONS, OPTION_BY_NAME, OPTIONS, ConvertOptions
from service.imaging.parsing import parse_format_list, parse_int, parse_int_list, parse_list, parse_options, parse_value


def test_defaults():
    o = parse_options({})
    assert (o.format, o.fit, o.enlarge, o.width, o.height, o.quality) == ("jpeg", "inside", False, None, None, None)


def test_convert_options_has_one_field_per_option_of_the_table():
    fields = [f.name for f in msgspec.structs.fields(ConvertOptions)]
    assert fields == [spec.name for spec in CONVERT_OPTIONS] + ["accepted"]
    assert not any(spec.group == "batch" for spec in CONVERT_OPTIONS)


def test_every_domain_default_is_a_value_the_domain_accepts():
    for spec in OPTIONS:
        for domain in spec.domains:
            for value in (domain.default, domain.ui_default):
                if value is None:
                    continue
                text = str(value).lower() if isinstance(value, bool) else str(value)
                assert parse_value(spec.name, domain, text) == value, (spec.name, value)


def test_each_format_has_its_own_quality_default():
    quality = OPTION_BY_NAME["quality"]
    defaults = {fmt: quality.domain_for(fmt).default for fmt in OutputFormat}  # type: ignore[union-attr]
    assert defaults == {
        OutputFormat.JPEG: 80,
        OutputFormat.WEBP: 80,
        OutputFormat.TIFF: 80,
        OutputFormat.AVIF: 50,
        OutputFormat.PNG: 100,
    }


def test_option_for_another_format_is_refused():
    with pytest.raises(OptionError) as err:
        parse_options({"format": "webp", "trellis_quant": "true"})
    assert err.value.field == "trellis_quant" and "jpeg" in err.value.allowed


def test_same_option_name_has_per_format_ranges():
    assert parse_options({"format": "webp", "effort": "6"}).effort == 6
    with pytest.raises(OptionError):
        parse_options({"format": "webp", "effort": "9"})
    assert parse_options({"format": "avif", "effort": "9"}).effort == 9
    assert parse_options({"format": "png", "compression": "9"}).compression == 9
    assert parse_options({"format": "tiff", "compression": "LZW"}).compression == "lzw"


def test_a_batch_value_must_suit_every_format_it_targets():
    with pytest.raises(OptionError) as err:
        parse_options({"effort": "8"}, formats=[OutputFormat.WEBP, OutputFormat.AVIF])
    assert "between 0 and 6" in err.value.allowed
    assert parse_options({"effort": "5"}, formats=[OutputFormat.WEBP, OutputFormat.AVIF]).effort == 5


def test_max_dimension_setting_is_the_one_range_check():
    with pytest.raises(OptionError) as err:
        parse_options({"width": "5000"}, max_dimension=4000)
    assert err.value.allowed == "an integer between 1 and 4000"
    assert parse_options({"width": "4000"}, max_dimension=4000).width == 4000


@pytest.mark.parametrize("raw", ["٣٠٠", "１００", "3_00", "3e2", "300.0", "0x12c", "", " ", "3 00", "½"])
def test_numbers_are_ascii_digits_only(raw):
    with pytest.raises(OptionError) as err:
        parse_options({"width": raw})
    assert err.value.field == "width" and err.value.received == raw


@pytest.mark.parametrize(("raw", "value"), [("300", 300), (" 300 ", 300), ("+300", 300), ("0300", 300)])
def test_plain_integers_parse(raw, value):
    assert parse_options({"width": raw}).width == value
    assert parse_int(raw) == value


def test_choices_of_digits_are_integers():
    assert parse_options({"format": "avif", "bitdepth": "10"}).bitdepth == 10
    with pytest.raises(OptionError) as err:
        parse_options({"format": "avif", "bitdepth": "9"})
    assert err.value.allowed == "one of 8, 10, 12"


def test_booleans_and_choices_are_case_insensitive():
    o = parse_options({"enlarge": "YES", "fit": "Cover", "format": "PNG", "palette": "off"})
    assert (o.enlarge, o.fit, o.format, o.palette) == (True, "cover", "png", False)
    with pytest.raises(OptionError):
        parse_options({"enlarge": "maybe"})


def test_unknown_option_names_the_known_ones():
    with pytest.raises(OptionError) as err:
        parse_options({"widht": "100"})
    assert err.value.field == "widht" and "width" in err.value.allowed


def test_a_huge_value_is_not_echoed_back_whole():
    huge = "9" * 10_000_000
    with pytest.raises(OptionError) as err:
        parse_options({"width": huge})
    assert len(err.value.received) < MAX_ECHO + 40 and err.value.received.startswith("9" * MAX_ECHO)
    assert "10000000 characters" in err.value.message and len(err.value.message) < 400
    with pytest.raises(OptionError) as err:
        parse_options({"x" * 1_000_000: "1"})
    assert len(err.value.field or "") < MAX_ECHO + 40


def test_batch_options_are_not_convert_options():
    with pytest.raises(OptionError):
        parse_options({"widths": "100"})
    assert parse_options({"widths": "100"}, extra=["widths"]).width is None


def test_parse_list_checks_every_item_and_drops_duplicates():
    assert parse_list("widths", ["320,800", "320", " 1600 "]) == (320, 800, 1600)
    assert parse_list("formats", ["webp,AVIF"]) == ("webp", "avif")
    assert parse_list("qualities", ["", ","]) == ()
    with pytest.raises(OptionError) as err:
        parse_list("widths", ["320,٣٠٠"])
    assert err.value.field == "widths" and err.value.received == "٣٠٠"
    with pytest.raises(OptionError):
        parse_list("widths", ["5000"], max_dimension=4000)
    assert parse_int_list("qualities", ["50,75", "50"]) == (50, 75)
    assert parse_format_list(["webp", "avif,webp"]) == (OutputFormat.WEBP, OutputFormat.AVIF)
    with pytest.raises(OptionError):
        parse_format_list(["gif"])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ()),
        ("*/*", ()),
        ("image/avif,image/webp", ("avif", "webp")),
        ("image/webp;q=0.9, image/avif;q=0", ("webp",)),
        ("image/avif;q=nan, image/webp;q=１", ()),
        ("IMAGE/AVIF", ("avif",)),
    ],
)
def test_accept_parsing(header, expected):
    assert accepted_formats(header) == expected


def test_auto_format_accepts_options_of_any_candidate_format():
    o = parse_options({"format": "auto", "effort": "3"}, accepted=["webp"])
    assert (o.format, o.effort, o.accepted) == ("auto", 3, ("webp",))


def test_conditions_name_real_options_and_values_they_accept():
    for spec in OPTIONS:
        for domain in spec.domains:
            for condition in domain.when:
                for name, values in condition.items():
                    other = OPTION_BY_NAME[name]
                    for fmt in domain.formats:
                        other_domain = other.domain_for(fmt)
                        assert other_domain is not None, (spec.name, name, fmt)
                        for value in values:
                            text = str(value).lower() if isinstance(value, bool) else str(value)
                            assert parse_value(name, other_domain, text) == value
    webp_quality = OPTION_BY_NAME["quality"].domain_for(OutputFormat.WEBP)
    assert webp_quality is not None
    assert webp_quality.describe_when() == "when lossless=false or near_lossless=true"
