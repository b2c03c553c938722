"""The option vocabulary (service/imaging/domains.py): what a Domain accepts and says about itself,
and an OptionSpec's one domain per format; built here from its own constructors, not the table."""

from __future__ import annotations

import pytest

from service.imaging.domains import (
    IN_ALL,
    IN_AVIF,
    IN_WEBP,
    MAX_DIMENSION,
    Domain,
    OptionSpec,
    bool_domain,
    choice_domain,
    int_domain,
)
from service.imaging.formats import OutputFormat


def test_ui_default_is_the_api_default_unless_set_even_to_none():
    assert int_domain(1, 100, default=80).ui_default == 80
    assert int_domain(1, 100, default=80, ui=75).ui_default == 75
    assert int_domain(1, 100, default=80, ui=None).ui_default is None  # "preselect nothing"


def test_a_dimension_is_bounded_by_the_configured_maximum_too():
    width = int_domain(1, MAX_DIMENSION, dimension=True)
    quality = int_domain(1, 100)
    assert (width.upper(), width.upper(4000), width.upper(99_999)) == (MAX_DIMENSION, 4000, MAX_DIMENSION)
    assert quality.upper(50) == 100  # not a dimension: the setting does not touch it
    assert width.describe(4000) == "an integer between 1 and 4000"


def test_describe_names_what_each_kind_accepts():
    assert bool_domain().describe() == "a boolean (true/false)"
    assert choice_domain(("lzw", "none")).describe() == "one of lzw, none"
    assert Domain("number", IN_ALL, 0.0, 1.5).describe() == "a number between 0 and 1.5"
    assert int_domain(8, 12, choices=("8", "10", "12")).describe() == "one of 8, 10, 12"


def test_describe_when_joins_alternatives_and_lowercases_booleans():
    assert int_domain(1, 100).describe_when() == ""
    domain = int_domain(1, 100, when=({"lossless": (False,)}, {"near_lossless": (True,), "effort": (1, 2)}))
    assert domain.describe_when() == "when lossless=false or near_lossless=true and effort=1/2"


def test_vips_value_maps_only_when_a_mapping_is_declared():
    plain = bool_domain()
    mapped = choice_domain(("auto", "4:4:4"), to_vips={"auto": 0, "4:4:4": 3})
    assert (plain.vips_value(True), mapped.vips_value("4:4:4"), mapped.vips_value("auto")) == (True, 3, 0)
    with pytest.raises(KeyError):
        mapped.vips_value("4:2:2")


def test_a_spec_finds_the_domain_of_each_format():
    webp = int_domain(0, 6, IN_WEBP, param="effort")
    avif = int_domain(0, 9, IN_AVIF, param="effort")
    spec = OptionSpec("effort", "encoder", "CPU spent on compression", (webp, avif))
    assert spec.domain_for(OutputFormat.WEBP) is webp and spec.domain_for(OutputFormat.AVIF) is avif
    assert spec.domain_for(OutputFormat.JPEG) is None
    assert spec.formats == {OutputFormat.WEBP, OutputFormat.AVIF}
    assert spec.in_convert_options
    assert not OptionSpec("widths", "batch", "", (int_domain(1, 10),)).in_convert_options


def test_two_domains_for_one_format_are_refused_at_declaration():
    with pytest.raises(ValueError, match="option effort: two domains for webp"):
        OptionSpec("effort", "encoder", "", (int_domain(0, 6, IN_WEBP), int_domain(0, 9, IN_WEBP | IN_AVIF)))


def test_domains_compare_by_identity():
    assert int_domain(1, 2) != int_domain(1, 2)
    assert len({int_domain(1, 2), int_domain(1, 2)}) == 2
