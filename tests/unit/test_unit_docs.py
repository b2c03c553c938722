"""The README documents what the code really reads: every variable with its default, every option."""

from __future__ import annotations

from pathlib import Path

from service.imaging.options import OPTIONS
from service.settings import VARIABLES, load_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_environment_variable_is_in_the_readme_with_its_default():
    for var in VARIABLES:
        assert f"| `{var.name}` | `{var.default}` |" in README, var.name


def test_every_option_is_in_the_readme():
    for spec in OPTIONS:
        assert f"| `{spec.name}` |" in README, spec.name


def test_defaults_parse():
    settings = load_settings({})
    assert settings.port == 8000 and settings.workers >= 1 and settings.max_batch_outputs == 60
