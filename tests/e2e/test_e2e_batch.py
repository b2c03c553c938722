"""The batch page: one request to /api/batch, a grid of cells, the server's ZIP."""

from __future__ import annotations

import re

import pytest
from e2ehelpers import assert_contrast
from playwright.sync_api import expect

from apihelpers import decode, jpeg, unzip


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "mountain.jpg"
    path.write_bytes(jpeg(1600, 1000))
    return path


def set_values(page, testid: str, add_testid: str, values: list[int]) -> None:
    inputs = page.get_by_test_id(testid)
    while inputs.count() < len(values):
        page.get_by_test_id(add_testid).click()
    while inputs.count() > len(values):
        page.get_by_test_id(testid.replace("-input", "-remove")).last.click()
    for i, value in enumerate(values):
        inputs.nth(i).fill(str(value))


def run_batch(tab, photo, widths: list[int], qualities: list[int], fmt: str = "webp"):
    page = tab.page
    page.goto(tab.base + "/batch")
    page.get_by_test_id("batch-file-input").set_input_files(str(photo))
    page.get_by_test_id("batch-format").select_option(fmt)
    set_values(page, "batch-width-input", "batch-add-width", widths)
    set_values(page, "batch-quality-input", "batch-add-quality", qualities)
    page.get_by_test_id("batch-convert").click()
    cells = page.get_by_test_id("batch-cell")
    expect(cells.locator("img.thumb")).to_have_count(len(widths) * len(qualities), timeout=60_000)
    return cells


def cell_bytes(cell) -> int:
    return int(re.search(r"(\d+) bytes", cell.get_by_test_id("batch-cell-size").inner_text()).group(1))


def test_three_by_three_batch_and_zip(tab, photo):
    page = tab.page
    cells = run_batch(tab, photo, [300, 600, 900], [40, 60, 80])
    assert tab.api_requests() == [tab.base + "/api/batch?response=json"]  # one upload for the whole grid
    widths = sorted(cells.locator("img.thumb").evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    assert widths == [300] * 3 + [600] * 3 + [900] * 3  # every thumbnail decoded in the browser
    for i in range(9):
        expect(cells.nth(i).get_by_test_id("batch-cell-dims")).to_contain_text("× ")
        expect(cells.nth(i)).to_contain_text("% smaller")
    assert_contrast(page)
    tab.shot("batch-grid")

    # One cell: the file saved is the one the cell describes.
    first = cells.nth(0)
    with page.expect_download() as info:
        first.get_by_test_id("batch-cell-download").click()
    assert info.value.suggested_filename == "mountain_300x188_q40.webp"
    info.value.save_as(tab.tmp / "one.webp")
    one = (tab.tmp / "one.webp").read_bytes()
    assert len(one) == cell_bytes(first) and decode(one).width == 300

    # Full size view of a cell, closed again with Escape.
    first.locator(".thumb-button").click()
    expect(page.locator("#viewer")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()

    with page.expect_download() as info:
        page.get_by_test_id("batch-download-all").click()
    path = tab.tmp / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "mountain_batch.zip"
    entries = unzip(path.read_bytes())
    assert len(entries) == 9
    for name, data in entries.items():
        image = decode(data)
        assert image.get("vips-loader") == "webpload_buffer"
        assert image.width in (300, 600, 900) and name.startswith("mountain_")


def test_widths_past_the_original_share_its_size_and_settings_persist(tab, photo):
    page = tab.page
    cells = run_batch(tab, photo, [800, 2000, 3000], [50], fmt="jpeg")
    # The service makes the original's size once; both wider cells show it, none is left empty.
    dims = [cells.nth(i).get_by_test_id("batch-cell-dims").inner_text() for i in range(3)]
    assert [d.split(" · ")[0] for d in dims] == ["800 × 500", "1600 × 1000", "1600 × 1000"]
    expect(cells.nth(2)).to_contain_text("original width (1600 px)")
    page.reload()
    values = page.get_by_test_id("batch-width-input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert values == ["800", "2000", "3000"]
    expect(page.get_by_test_id("batch-format")).to_have_value("jpeg")


def test_batch_bad_file_error_next_to_the_picker(tab, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"this is plain text, not a JPEG")
    page = tab.page
    page.goto(tab.base + "/batch")
    page.get_by_test_id("batch-file-input").set_input_files(str(bad))
    page.get_by_test_id("batch-convert").click()
    expect(page.locator("#file-error")).to_contain_text("cannot be read as an image", timeout=15_000)
    expect(page.get_by_test_id("batch-cell")).to_have_count(0)
    tab.shot("batch-error")
