"""service/web/: the browser UI declares no range, default, choice or limit of its own.

They all come from GET /api/options (service/api/catalog.py); a copy written into the JavaScript,
the HTML or the messages would stop following the service the day a setting or the option table
changes. These checks read the UI's sources for the shapes such copies take, with the document's
own values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.api.catalog import options_document
from service.settings import Settings

WEB = Path(__file__).resolve().parents[2] / "service" / "web"
SOURCES = sorted([*WEB.glob("*.js"), *WEB.glob("*.html")])
DOCUMENT = options_document(Settings())

# HTML controls whose range is the page's own, not an option's: the compare divider (a percentage)
# and the progress bars (re-ranged by the script as work arrives).
OWN_RANGES = ('id="compare-range"', "<progress ")


def _text(path: Path) -> str:
    """The source without its comments (which may quote an example), strings kept."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".js":
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
        text = re.sub(r"(?<![:\"'\\])//.*$", "", text, flags=re.MULTILINE)
    return text


def _bounds() -> set[tuple[float, float]]:
    """Every option's (minimum, maximum), but min_score's: a score is SSIM, 0 to 1 by definition, and
    the UI's hint says what a score is."""
    return {
        (d.minimum, d.maximum)
        for o in DOCUMENT.options
        for d in o.domains
        if d.minimum is not None and d.maximum is not None and o.name != "min_score"
    }


def _number(value: float) -> str:
    return f"{value:g}"


def test_the_sources_are_found():
    names = {p.name for p in SOURCES}
    assert {"page.js", "app.js", "batch.js", "formats.js", "i18n.js", "index.html", "batch.html"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_option_range_is_written_out(path):
    """ "(0–9)" in a label, `lo: 1, hi: 100`, `{minimum: 1, maximum: 100}`, `min: 1` as a fallback."""
    text = _text(path)
    found = []
    for lo, hi in _bounds():
        pair = rf"(?<![\d.]){re.escape(_number(lo))}\s*(?:–|-|\.\.|to)\s*{re.escape(_number(hi))}(?![\d.])"
        found += [m.group(0) for m in re.finditer(pair, text)]
    found += re.findall(r"\b(?:lo|hi|minimum|maximum)\s*:\s*-?\d", text)
    found += re.findall(r"\.(?:min|max)\s*=\s*\"?-?\d", text.replace(".max = 100;", ""))  # progress bars: percent
    assert found == [], f"{path.name} writes out option ranges: {found}"


def test_no_html_control_has_a_range_of_its_own():
    for path in WEB.glob("*.html"):
        for line in _text(path).splitlines():
            if re.search(r"\b(?:min|max)=\"", line) and not any(own in line for own in OWN_RANGES):
                pytest.fail(f"{path.name}: a control with a range written into the page: {line.strip()}")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_deployment_limit_is_written_out(path):
    """16383, 25 MB, 600 outputs...: the configured limits are in the document's `limits`."""
    text = _text(path)
    found = []
    for name, value in (
        ("max_output_dimension", DOCUMENT.limits.max_output_dimension),
        ("max_upload_bytes", DOCUMENT.limits.max_upload_bytes),
        ("max_input_pixels", DOCUMENT.limits.max_input_pixels),
        ("max_job_outputs", DOCUMENT.limits.max_job_outputs),
    ):
        for shape in {str(value), f"{value:_}", f"{value / 1e6:g} MB"}:
            if re.search(rf"(?<![\w.]){re.escape(shape)}(?![\w.])", text):
                found.append(f"{name}: {shape}")
    assert found == [], f"{path.name} writes out deployment limits: {found}"


@pytest.mark.parametrize("path", [p for p in SOURCES if p.suffix == ".js"], ids=lambda p: p.name)
def test_no_default_is_written_out(path):
    """`?? 80`, `|| "inside"`, `[320, 800, 1200]`: defaults and preselections are the document's."""
    text = _text(path)
    choices = {str(c) for o in DOCUMENT.options for d in o.domains for c in (d.choices or ()) if isinstance(c, str)}
    found = re.findall(r"(?:\?\?|\|\|)\s*-?\d{2,}", text)
    found += [m.group(0) for m in re.finditer(r"(?:\?\?|\|\|)\s*\"([^\"]+)\"", text) if m.group(1) in choices]
    quality = next(o for o in DOCUMENT.options if o.name == "qualities").domains[0]
    for listed in re.findall(r"\[\s*\d+\s*(?:,\s*\d+\s*){2,}\]", text):  # qualities to preselect or add
        if all(quality.minimum <= int(v) <= quality.maximum for v in re.findall(r"\d+", listed)):
            found.append(listed)
    assert found == [], f"{path.name} writes out defaults: {found}"
    grid = DOCUMENT.ui_grid
    for values in (grid.widths, grid.qualities):
        assert ", ".join(map(str, values)) not in text, f"{path.name} copies the batch grid's preselection"
