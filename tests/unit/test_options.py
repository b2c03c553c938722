"""The option table (service/imaging/options.py): one ConvertOptions field per option, defaults the
domains accept, per-format defaults, and conditions that name real options and values."""

from __future__ import annotations

import msgspec

from service.imaging.formats import OutputFormat
from service.imaging.options import CONVERT_OPTIONS, OPTION_BY_NAME, OPTIONS, ConvertOptions
from service.imaging.parsing import parse_value


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
