"""The option parser (service/imaging/parsing.py): query strings to ConvertOptions and lists, every
refusal naming the field, what it allows and what it received; no HTTP, no libvips."""

from __future__ import annotations

import pytest

from service.imaging.domains import IN_ALL, Domain, int_domain
from service.imaging.errors import MAX_ECHO, Allowed, OptionError
from service.imaging.formats import OutputFormat
from service.imaging.parsing import (
    parse_format,
    parse_format_list,
    parse_int,
    parse_int_list,
    parse_list,
    parse_options,
    parse_value,
)


def test_defaults():
    o = parse_options({})
    assert (o.format, o.fit, o.enlarge, o.width, o.height, o.quality) == ("jpeg", "inside", False, None, None, None)


def test_option_for_another_format_is_refused():
    with pytest.raises(OptionError) as err:
        parse_options({"format": "webp", "trellis_quant": "true"})
    assert err.value.field == "trellis_quant" and "jpeg" in err.value.message
    assert err.value.allowed == Allowed("requires", option="format", choices=("jpeg",))


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
    assert "between 0 and 6" in err.value.message
    assert err.value.allowed == Allowed("integer", minimum=0, maximum=6)
    assert parse_options({"effort": "5"}, formats=[OutputFormat.WEBP, OutputFormat.AVIF]).effort == 5


def test_max_dimension_setting_is_the_one_range_check():
    with pytest.raises(OptionError) as err:
        parse_options({"width": "5000"}, max_dimension=4000)
    assert err.value.allowed == Allowed("integer", minimum=1, maximum=4000)
    assert "an integer between 1 and 4000" in err.value.message
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
    assert err.value.allowed == Allowed("integer", choices=(8, 10, 12))
    assert "one of 8, 10, 12" in err.value.message


def test_booleans_and_choices_are_case_insensitive():
    o = parse_options({"enlarge": "YES", "fit": "Cover", "format": "PNG", "palette": "off"})
    assert (o.enlarge, o.fit, o.format, o.palette) == (True, "cover", "png", False)
    with pytest.raises(OptionError):
        parse_options({"enlarge": "maybe"})


def test_unknown_option_names_the_known_ones():
    with pytest.raises(OptionError) as err:
        parse_options({"widht": "100"})
    assert err.value.field == "widht" and "width" in err.value.message
    assert err.value.allowed.type == "option" and "width" in err.value.allowed.choices


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


def test_auto_format_accepts_options_of_any_candidate_format():
    o = parse_options({"format": "auto", "effort": "3"}, accepted=["webp"])
    assert (o.format, o.effort, o.accepted) == ("auto", 3, ("webp",))


def test_parse_value_reads_each_kind_and_checks_its_range():
    assert parse_value("x", Domain("number", IN_ALL, 0.0, 1.0), " 0.25 ") == 0.25
    assert parse_value("x", Domain("number", IN_ALL, 0.0, 1.0), ".5") == 0.5
    for raw in ("1.5", "nan", "inf", "1e-1"):
        with pytest.raises(OptionError) as err:
            parse_value("x", Domain("number", IN_ALL, 0.0, 1.0), raw)
        assert (err.value.field, err.value.received) == ("x", raw)
    assert parse_value("x", int_domain(1, 16383, dimension=True), "5000") == 5000
    with pytest.raises(OptionError):
        parse_value("x", int_domain(1, 16383, dimension=True), "5000", max_dimension=4000)


def test_parse_format_accepts_auto_and_every_output_format():
    assert parse_format("AUTO") == "auto"
    assert {parse_format(f.value) for f in OutputFormat} == {f.value for f in OutputFormat}
    with pytest.raises(OptionError):
        parse_format("gif")
