"""The README documents what the code really reads: every variable with its default, every option."""

from __future__ import annotations

from pathlib import Path

from service import docs
from service.docs import render_readme
from service.imaging.options import OPTIONS
from service.settings import VARIABLES, load_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_environment_variable_is_in_the_readme_with_its_default():
    for var in VARIABLES:
        assert f"| `{var.name}` | `{var.default}` |" in README, var.name


def test_readme_options_table_is_the_generated_one():
    """Fails when the option table changed and `python -m service.docs readme` was not run."""
    assert render_readme(README) == README, "run `python -m service.docs readme`"
    for spec in OPTIONS:
        assert f"| `{spec.name}`" in README, spec.name


def test_docs_command_check_mode_reports_a_stale_table(tmp_path, monkeypatch):
    stale = tmp_path / "README.md"
    stale.write_text(README.replace("| `quality` |", "| `quality` | stale |", 1))
    monkeypatch.setattr(docs, "README", stale)
    assert docs.main(["readme", "--check"]) == 1
    assert docs.main(["readme"]) == 0
    assert docs.main(["readme", "--check"]) == 0
    assert stale.read_text() == README


def test_defaults_parse():
    settings = load_settings({})
    assert settings.port == 8000 and settings.workers >= 1 and settings.max_batch_outputs == 60
