"""The pages' shared start-up (service/web/page.js): both pages take every range, default, choice
and limit from GET /api/options, so a service started with other limits, or a document that says
otherwise, changes what both pages offer and check, with no copy in the JavaScript to go stale."""

from __future__ import annotations

import json

import httpx
import pytest
from apihelpers import Service
from playwright.sync_api import expect

LIMITED = {"MAX_OUTPUT_DIMENSION": "1000", "MAX_JOB_OUTPUTS": "4", "MAX_UPLOAD_BYTES": "3000000"}
NOT_AN_IMAGE = {"name": "a.png", "mimeType": "image/png", "buffer": b"\x89PNG"}  # checks come before any upload


@pytest.fixture(scope="module")
def limited():
    svc = Service("e2e-startup-limits", env=dict(LIMITED)).start()
    yield svc
    svc.stop()


def values(page, testid: str) -> list[str]:
    return page.get_by_test_id(testid).evaluate_all("es => es.map(e => e.value)")


def test_both_pages_follow_a_service_started_with_lower_limits(open_tab, limited):
    doc = httpx.get(limited.url + "/api/options").json()
    assert doc["limits"]["max_job_outputs"] == 4 and doc["ui_grid"]["widths"] == [320, 800, 1000]
    tab = open_tab(base=limited.url)
    page = tab.page

    tab.goto("/")
    for testid in ("width", "height"):
        expect(page.get_by_test_id(testid)).to_have_attribute("min", "1")
        expect(page.get_by_test_id(testid)).to_have_attribute("max", "1000")
    expect(page.locator("#dropzone .hint")).to_have_text("JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC · up to 3 MB")
    page.get_by_test_id("lang").select_option("ko")
    expect(page.locator("#dropzone .hint")).to_contain_text("최대 3 MB")
    page.get_by_test_id("lang").select_option("en")

    tab.goto("/batch")
    expect(page.locator("#dropzone .hint")).to_contain_text("up to 3 MB")
    # The grid the service preselects: its 1200 px width is past the limit, so the limit instead.
    assert values(page, "batch-width-input") == ["320", "800", "1000"]
    assert values(page, "batch-quality-input") == [str(q) for q in doc["ui_grid"]["qualities"]]
    expect(page.get_by_test_id("batch-width-input").first).to_have_attribute("max", "1000")
    qualities = next(o for o in doc["options"] if o["name"] == "qualities")["domains"][0]
    expect(page.get_by_test_id("batch-quality-input").first).to_have_attribute("max", str(qualities["maximum"]))
    # No more widths than one job may hold.
    page.get_by_test_id("batch-add-width").click()
    expect(page.get_by_test_id("batch-width-input")).to_have_count(4)
    expect(page.get_by_test_id("batch-add-width")).to_be_disabled()
    expect(page.locator("#widths-max")).to_have_text("(4/4)")
    new_width = int(values(page, "batch-width-input")[-1])
    assert 1 <= new_width <= 1000
    # 2 widths x 3 qualities is more than MAX_JOB_OUTPUTS: said before anything is uploaded.
    for _ in range(2):
        page.get_by_test_id("batch-width-remove").last.click()
    while page.get_by_test_id("batch-quality-input").count() < 3:
        page.get_by_test_id("batch-add-quality").click()
    page.get_by_test_id("batch-file-input").set_input_files(files=[NOT_AN_IMAGE])
    page.get_by_test_id("batch-convert").click()
    expect(page.get_by_test_id("error")).to_contain_text("at most 4 images")
    expect(page.locator("#qualities-error")).to_contain_text("at most 4 images")
    assert [u for u in tab.api_requests() if "/api/options" not in u] == []

    # A width the service would refuse is never restored, on this page as on the single one.
    page.get_by_test_id("batch-width-input").first.fill("2500")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    assert "2500" not in values(page, "batch-width-input")


def _reshaped(doc: dict) -> dict:
    """The document with other ranges, defaults and a grid than the service's own."""
    doc = json.loads(json.dumps(doc))
    for option in doc["options"]:
        for domain in option["domains"]:
            if option["name"] == "quality" and "jpeg" in domain["formats"]:
                domain.update(minimum=5, maximum=60)
            if option["name"] == "qualities":
                domain.update(minimum=5, maximum=60)
            if option["name"] == "compression" and "png" in domain["formats"]:
                domain.update(minimum=2, maximum=7)
            if option["name"] == "fit":
                domain.update(default="cover")
            if option["name"] == "min_score":
                domain.update(minimum=0.5, maximum=0.99)
    for preselected in doc["ui_defaults"].values():
        preselected["fit"] = "cover"
    doc["ui_defaults"]["jpeg"]["quality"] = 42
    doc["ui_defaults"]["png"]["compression"] = 3
    doc["ui_grid"] = {"widths": [111, 222], "qualities": [33, 44, 55], "max_widths": 3, "max_qualities": 5}
    doc["limits"]["max_upload_bytes"] = 7_500_000
    return doc


def test_both_pages_show_what_the_document_says(tab):
    doc = _reshaped(httpx.get(tab.base + "/api/options").json())
    page = tab.page
    page.route("**/api/options", lambda route: route.fulfill(json=doc))

    tab.goto("/")
    quality = page.get_by_test_id("quality")
    expect(quality).to_have_attribute("min", "5")
    expect(quality).to_have_attribute("max", "60")
    expect(quality).to_have_value("42")
    expect(page.get_by_test_id("fit")).to_have_value("cover")
    expect(page.locator("#dropzone .hint")).to_contain_text("up to 7.5 MB")
    page.get_by_test_id("format").select_option("png")
    compression = page.locator("#opt-png-compression")
    expect(compression).to_have_attribute("min", "2")
    expect(compression).to_have_attribute("max", "7")
    expect(compression).to_have_value("3")
    expect(page.locator("label[for=opt-png-compression]")).to_have_text("Compression level (2–7)")
    page.get_by_test_id("lang").select_option("ko")
    expect(page.locator("label[for=opt-png-compression]")).to_have_text("압축 수준 (2–7)")
    page.get_by_test_id("lang").select_option("en")

    tab.goto("/batch")
    assert values(page, "batch-width-input") == ["111", "222"]
    assert values(page, "batch-quality-input") == ["33", "44", "55"]
    expect(page.locator("#widths-max")).to_have_text("(2/3)")
    expect(page.locator("#qualities-max")).to_have_text("(3/5)")
    expect(page.get_by_test_id("batch-quality-input").first).to_have_attribute("min", "5")
    page.get_by_test_id("batch-add-quality").click()
    added = int(values(page, "batch-quality-input")[-1])
    assert 5 <= added <= 60 and added not in (33, 44, 55)
    expect(page.get_by_test_id("pick-value")).to_have_attribute("max", "0.99")
    expect(page.get_by_test_id("pick-value")).to_have_attribute("min", "0.5")


@pytest.mark.parametrize("path", ["/", "/batch"])
def test_either_page_without_the_options_document_says_so(tab, path):
    page = tab.page
    page.route("**/api/options", lambda route: route.abort())
    page.goto(tab.base + path)
    expect(page.locator("body")).to_have_attribute("data-ready", "failed", timeout=15_000)
    expect(page.get_by_test_id("error")).to_contain_text("options could not be loaded")
    tab.page_errors.clear()  # the page stops with the reason in its console, as it should
