"""The original service's presets (service/api/seedfields.py): each names options our parser
accepts for JPEG, and together they say what the original's checkbox did."""

from __future__ import annotations

from service.api.seedfields import SEED_PRESETS
from service.imaging.options import OPTION_BY_NAME, SEED_NAMES
from service.imaging.parsing import parse_options


def test_each_preset_sets_real_jpeg_options() -> None:
    for preset in SEED_PRESETS:
        options = parse_options({"format": "jpeg", **preset.values})
        for name, raw in preset.values.items():
            assert OPTION_BY_NAME[name].group == "encoder", name
            assert str(getattr(options, name)).lower() == raw, name


def test_a_preset_name_is_no_field_of_its_own() -> None:
    names = [preset.name for preset in SEED_PRESETS]
    assert len(names) == len(set(names))
    assert not set(names) & set(SEED_NAMES) and not set(names) & set(OPTION_BY_NAME)


def test_the_mozjpeg_preset_is_sharps() -> None:
    (mozjpeg,) = (p for p in SEED_PRESETS if p.name == "mozjpeg")
    assert dict(mozjpeg.values) == {
        "trellis_quant": "true",
        "overshoot_deringing": "true",
        "optimize_scans": "true",
        "quant_table": "3",
    }
    assert mozjpeg.description.startswith("JPEG:")
