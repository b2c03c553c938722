"""The batch page: one request to /api/batch, a grid of cells, the server's ZIP."""

from __future__ import annotations

import pytest
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


def test_three_by_three_batch_and_zip(tab, photo):
    page = tab.page
    batch_requests: list[str] = []
    page.on("request", lambda r: batch_requests.append(r.url) if "/api/" in r.url else None)
    page.goto(tab.base + "/batch")
    page.get_by_test_id("batch-file-input").set_input_files(str(photo))
    page.get_by_test_id("batch-format").select_option("webp")
    set_values(page, "batch-width-input", "batch-add-width", [300, 600, 900])
    set_values(page, "batch-quality-input", "batch-add-quality", [40, 60, 80])
    page.get_by_test_id("batch-convert").click()
    cells = page.get_by_test_id("batch-cell")
    expect(cells.locator("img")).to_have_count(9, timeout=60_000)
    assert [u for u in batch_requests if "/api/" in u and "/api/batch" not in u] == []
    assert sum("/api/batch" in u for u in batch_requests) == 1  # one upload for the whole grid
    widths = sorted(cells.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)"))
    assert widths == [300] * 3 + [600] * 3 + [900] * 3
    tab.shot("batch-grid")

    with page.expect_download() as info:
        page.get_by_test_id("batch-download-all").click()
    path = tab.tmp / info.value.suggested_filename
    info.value.save_as(path)
    entries = unzip(path.read_bytes())
    assert len(entries) == 9
    for name, data in entries.items():
        image = decode(data)
        assert image.get("vips-loader") == "webpload_buffer"
        assert image.width in (300, 600, 900) and name.startswith("mountain_")
