"""The batch page: one upload to /api/jobs, a long poll, a grid that fills cell by cell, the archive."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from apihelpers import Service, decode, jpeg, unzip
from e2ehelpers import assert_contrast, capture_forms, sent_forms
from playwright.sync_api import expect


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


def start_batch(tab, photo, widths: list[int], qualities: list[int], fmt: str = "webp", path: str | None = "/batch"):
    """Fill the batch form and submit it (path None: the page is already open and set up)."""
    page = tab.page
    if path:
        tab.goto(path)
    page.get_by_test_id("batch-file-input").set_input_files(str(photo))
    page.get_by_test_id("batch-format").select_option(fmt)
    set_values(page, "batch-width-input", "batch-add-width", widths)
    set_values(page, "batch-quality-input", "batch-add-quality", qualities)
    page.get_by_test_id("batch-convert").click()
    return page.get_by_test_id("batch-cell")


def run_batch(tab, photo, widths: list[int], qualities: list[int], fmt: str = "webp", timeout: float = 90_000):
    cells = start_batch(tab, photo, widths, qualities, fmt)
    expect(tab.page.locator("[data-testid=batch-cell][data-state=done]")).to_have_count(
        len(widths) * len(qualities), timeout=timeout
    )
    return cells


def job_status(tab) -> dict:
    job_id = tab.page.get_by_test_id("batch-grid").get_attribute("data-job-id")
    return httpx.get(f"{tab.base}/api/jobs/{job_id}", timeout=30).json()


def test_three_by_three_batch_fills_from_one_upload_and_downloads_the_archive(tab, photo):
    page = tab.page
    cells = run_batch(tab, photo, [300, 600, 900], [40, 60, 80])
    api = [urlsplit(u) for u in tab.api_requests()]
    posts = [u for u in api if u.path == "/api/jobs"]
    assert len(posts) == 1, "one upload for the whole grid"
    assert all(u.path.startswith("/api/jobs") or u.path == "/api/options" for u in api), api
    assert all("wait=" in u.query for u in api if u.path.startswith("/api/jobs/"))  # long polls, no tight loop
    expect(page.get_by_test_id("batch-progress-text")).to_contain_text("done")
    assert page.get_by_test_id("batch-progress").get_attribute("data-done") == "9"

    # Each cell shows the bytes the service reports for its output.
    status = job_status(tab)
    by_cell = {(o["requested_width"], o["quality"]): o for o in status["outputs"]}
    for i in range(9):
        cell = cells.nth(i)
        out = by_cell[(int(cell.get_attribute("data-width")), int(cell.get_attribute("data-quality")))]
        assert int(cell.get_attribute("data-bytes")) == out["bytes"]
    assert_contrast(page)
    tab.shot("batch-grid")

    # The viewer fetches the cell's own file; its download is that file.
    cells.nth(0).locator("button").click()
    expect(page.get_by_test_id("viewer")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_test_id("viewer-download").click()
    assert info.value.suggested_filename == "mountain_300x188_q40.webp"
    info.value.save_as(tab.tmp / "one.webp")
    one = (tab.tmp / "one.webp").read_bytes()
    assert len(one) == int(cells.nth(0).get_attribute("data-bytes")) and decode(one).width == 300
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("viewer")).to_be_hidden()

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


def test_widths_past_the_original_say_so_and_settings_persist(tab, photo):
    page = tab.page
    cells = run_batch(tab, photo, [800, 2000, 3000], [50], fmt="jpeg")
    widths = [cells.nth(i).get_attribute("data-width") for i in range(3)]
    assert widths == ["800", "2000", "3000"]
    notes = page.get_by_test_id("batch-row-actual")
    expect(notes).to_have_count(2)  # the 2000 and 3000 rows hold the original's 1600 px
    expect(notes.first).to_contain_text("1600 px")
    assert cells.nth(1).get_attribute("data-bytes") == cells.nth(2).get_attribute("data-bytes")
    page.reload()
    values = page.get_by_test_id("batch-width-input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert values == ["800", "2000", "3000"]
    expect(page.get_by_test_id("batch-format")).to_have_value("jpeg")


def test_batch_bad_file_error_next_to_the_picker(tab, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"this is plain text, not a JPEG")
    page = tab.page
    tab.goto("/batch")
    page.get_by_test_id("batch-file-input").set_input_files(str(bad))
    page.get_by_test_id("batch-convert").click()
    expect(page.locator("#file-error")).to_contain_text("cannot be read as an image", timeout=15_000)
    expect(page.get_by_test_id("batch-cell")).to_have_count(0)
    tab.shot("batch-error")


@pytest.fixture(scope="module")
def strict_service():
    # Items get 3 s: a 3840 px AVIF at effort 9 cannot finish, a 160 px one can.
    svc = Service("e2e-item-timeout", env={"JOB_ITEM_TIMEOUT_SECONDS": "3", "JOB_WORKER_SHARE": "1"}).start()
    yield svc
    svc.stop()


def test_a_failed_cell_says_why_and_is_retried_alone(open_tab, strict_service, tmp_path):
    big = tmp_path / "storm.jpg"
    big.write_bytes(jpeg(3840, 2400))
    tab = open_tab(base=strict_service.url)
    page = tab.page
    capture_forms(page)
    tab.goto("/batch")
    page.get_by_test_id("batch-format").select_option("avif")
    page.get_by_test_id("opt-avif-effort").fill("9")
    cells = start_batch(tab, big, [160, 3840], [50], fmt="avif", path=None)
    failed = page.locator("[data-testid=batch-cell][data-state=failed]")
    expect(failed.first).to_be_visible(timeout=120_000)
    expect(
        page.locator("[data-testid=batch-cell][data-state=pending], [data-testid=batch-cell][data-state=running]")
    ).to_have_count(0, timeout=120_000)
    small = page.locator("[data-testid=batch-cell][data-width='160']")
    large = page.locator("[data-testid=batch-cell][data-width='3840']")
    expect(small).to_have_attribute("data-state", "done")
    expect(large).to_have_attribute("data-state", "failed")
    expect(large.get_by_test_id("batch-cell-error")).to_contain_text("JOB_ITEM_TIMEOUT_SECONDS")  # says why
    tab.shot("batch-cell-failed")
    small_bytes = small.get_attribute("data-bytes")
    # Retry sends that one cell again, with the job's own settings, as a job of its own. It cannot
    # succeed under this service's item limit, so it ends failed again, still saying why.
    large.get_by_test_id("batch-cell-retry").click()
    expect(large).to_have_attribute("data-state", "retrying")
    expect(large).to_have_attribute("data-state", "failed", timeout=120_000)
    expect(large.get_by_test_id("batch-cell-error")).to_contain_text("JOB_ITEM_TIMEOUT_SECONDS")
    jobs = [f for f in tab.finished() if f.method == "POST" and f.url.endswith("/api/jobs")]
    assert len(jobs) == 2
    retry = sent_forms(page)[-1]
    assert (retry["widths"], retry["qualities"], retry["format"], retry["effort"]) == ("3840", "50", "avif", "9")
    assert small.get_attribute("data-bytes") == small_bytes  # the other cell is left alone
    expect(cells).to_have_count(2)


def test_a_new_grid_cancels_the_job_it_replaces(tab, tmp_path):
    photo = tmp_path / "big.jpg"
    photo.write_bytes(jpeg(2000, 1333))
    page = tab.page
    start_batch(tab, photo, [1000, 2000], [40, 50, 60, 70, 80, 90], fmt="avif")
    grid = page.get_by_test_id("batch-grid")
    expect(grid).to_have_attribute("data-job-id", re.compile(".+"), timeout=30_000)
    first = grid.get_attribute("data-job-id")
    set_values(page, "batch-width-input", "batch-add-width", [200])
    set_values(page, "batch-quality-input", "batch-add-quality", [50])
    with page.expect_request(lambda r: r.method == "DELETE" and r.url.endswith(f"/api/jobs/{first}")):
        page.get_by_test_id("batch-convert").click()
    # Items of the first job already running finish first (cancel stops what has not started).
    expect(page.locator("[data-testid=batch-cell][data-state=done]")).to_have_count(1, timeout=180_000)
    gone = httpx.get(f"{tab.base}/api/jobs/{first}", timeout=30)
    assert gone.status_code == 404 or gone.json()["status"] == "cancelled"
