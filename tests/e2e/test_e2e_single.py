"""The single-conversion page in real Chromium against the real service."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apihelpers import decode, jpeg, loader

LOADERS = {"webp": "webpload_buffer", "avif": "heifload_buffer", "jpeg": "jpegload_buffer"}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(jpeg(1200, 800))
    return path


def shown_bytes(tab) -> int:
    text = tab.page.get_by_test_id("result-size").inner_text()
    return int(re.search(r"([\d,]+)\s*(bytes|바이트)", text).group(1).replace(",", ""))


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_convert_preview_and_download(tab, photo, fmt):
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(page.get_by_test_id("original-dims")).to_contain_text("1200")
    page.get_by_test_id("format").select_option(fmt)
    page.get_by_test_id("width").fill("480")
    page.get_by_test_id("quality").fill("60")
    page.get_by_test_id("convert").click()
    expect(page.get_by_test_id("result-dims")).to_contain_text("480", timeout=30_000)
    expect(page.get_by_test_id("result-image")).to_have_attribute("src", re.compile("^blob:"))
    natural = page.get_by_test_id("result-image").evaluate("img => img.naturalWidth")
    assert natural == 480  # the browser decoded the preview
    size = shown_bytes(tab)
    with page.expect_download() as info:
        page.get_by_test_id("download").click()
    download = info.value
    path = tab.tmp / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()
    assert len(data) == size
    assert loader(data) == LOADERS[fmt]
    image = decode(data)
    assert (image.width, image.height) == (480, 320)
    assert download.suggested_filename.startswith("holiday") and download.suggested_filename.endswith("." + fmt)
    tab.shot(f"single-{fmt}")


def test_jpeg_options_only_for_jpeg(tab, photo):
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("format").select_option("jpeg")
    expect(page.get_by_test_id("opt-jpeg-trellis_quant")).to_be_visible()
    page.get_by_test_id("format").select_option("png")
    expect(page.get_by_test_id("opt-jpeg-trellis_quant")).to_be_hidden()


def test_bad_file_shows_the_error_in_plain_words(tab, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"this is not an image at all")
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("file-input").set_input_files(str(bad))
    page.get_by_test_id("convert").click()
    error = page.locator("[data-field-error=image], [data-testid=error]").filter(has_text=re.compile(r"\w"))
    expect(error.first).to_be_visible(timeout=15_000)
    assert re.search(r"image|JPEG", error.first.inner_text(), re.I)
    tab.shot("single-error")


def test_settings_survive_a_reload_and_korean_switch(tab):
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("format").select_option("webp")
    page.get_by_test_id("width").fill("640")
    page.wait_for_timeout(400)
    page.reload()
    expect(page.get_by_test_id("format")).to_have_value("webp")
    expect(page.get_by_test_id("width")).to_have_value("640")
    page.get_by_test_id("lang").select_option("ko")
    expect(page.get_by_test_id("convert")).to_have_text(re.compile("[가-힣]"))
    tab.shot("single-korean")


def test_keyboard_reaches_every_control(tab):
    page = tab.page
    page.goto(tab.base + "/")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement && document.activeElement.dataset.testid"))
    assert {"width", "height", "format", "quality", "convert"} <= seen
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter(e => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label')
                     && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map(e => e.id || e.outerHTML.slice(0, 80))""")
    assert unlabeled == []
