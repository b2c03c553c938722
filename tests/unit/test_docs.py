"""The generated documentation is current: the README's options, settings and error-code tables and
docs/contract.md's settings table are what `python -m service.docs` makes of the code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service import docs
from service.errors import CODES
from service.imaging.options import OPTIONS
from service.settings import VARIABLES

REPO = Path(__file__).resolve().parents[2]
FILES = sorted({name for table in docs.TABLES for name in table.files})


def _text(name: str) -> str:
    return (REPO / name).read_text()


@pytest.mark.parametrize("name", FILES)
def test_every_generated_table_is_current(name):
    """Fails when the option or settings table changed and `python -m service.docs` was not run."""
    assert docs.render(name, _text(name)) == _text(name), "run `python -m service.docs`"


def test_the_readme_shows_every_option_and_both_files_every_variable_with_its_default():
    for spec in OPTIONS:
        assert f"| `{spec.name}`" in _text("README.md"), spec.name
    for name in ("README.md", "docs/contract.md"):
        for var in VARIABLES:
            default = f"`{var.default}`" if var.default else ""
            assert f"| `{var.name}` | {default} | {var.description} Must be {var.parse.__doc__}. |" in _text(name)


def test_the_readme_shows_every_error_code_with_its_status():
    for code in CODES.values():
        assert f"| `{code.name}` | {code.status} |" in _text("README.md"), code.name


def test_each_table_is_written_once_per_file():
    for table in docs.TABLES:
        for name in table.files:
            assert _text(name).count(table.begin) == 1 and _text(name).count(table.end) == 1, (name, table.what)
    assert _text("docs/contract.md").count("| variable | default | meaning |") == 1
    assert _text("README.md").count("| variable | default | meaning |") == 1


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("README.md", "| `quality` |"),
        ("README.md", "| `PORT` |"),
        ("README.md", "| `storage_full` |"),
        ("docs/contract.md", "| `PORT` |"),
    ],
)
def test_docs_command_check_mode_reports_a_stale_table(tmp_path, monkeypatch, name, row):
    for each in FILES:
        (tmp_path / each).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / each, tmp_path / each)
    stale = tmp_path / name
    assert row in stale.read_text()
    stale.write_text(stale.read_text().replace(row, row + " stale |", 1))
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0
    assert docs.main(["--check"]) == 0
    for each in FILES:
        assert (tmp_path / each).read_text() == _text(each)


def test_a_file_without_its_markers_is_an_error_not_a_silent_skip():
    with pytest.raises(ValueError, match="settings table"):
        docs.render("docs/contract.md", "# contract without a table\n")


def test_the_command_refuses_unknown_arguments():
    assert docs.main(["readme"]) == 2


def test_the_readme_shows_every_url_option_with_its_short_forms():
    from service.imgurl.urloptions import URL_OPTIONS

    readme = _text("README.md")
    for option in URL_OPTIONS:
        names = ", ".join(f"`{n}`" for n in option.names)
        assert f"| {names} | `{option.syntax}` |" in readme
