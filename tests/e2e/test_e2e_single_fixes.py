"""Issue 12 fixes 1-6 on the single page, at desktop (1280x900) and phone (390x844) sizes."""

from __future__ import annotations

import re

import httpx
import pytest
from apihelpers import decode, jpeg, loader
from conftest import DESKTOP, PHONE
from e2ehelpers import assert_contrast, capture_forms, in_viewport, sent_forms
from playwright.sync_api import expect


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(jpeg(1200, 800))
    return path


@pytest.fixture(scope="module")
def options_doc(ui_service):
    return httpx.get(ui_service.url + "/api/options").json()


def upload(tab, photo, path: str = "/") -> None:
    tab.goto(path)
    tab.page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(tab.page.get_by_test_id("original-dims")).to_contain_text("1200 × 800")


def download(tab):
    with tab.page.expect_download() as info:
        tab.page.get_by_test_id("download").click()
    path = tab.tmp / info.value.suggested_filename
    info.value.save_as(path)
    return info.value.suggested_filename, path.read_bytes()


# ---------------------------------------------------------------- 1. JPEG defaults as the original page


def test_jpeg_defaults_are_the_services_ui_defaults_and_are_sent(tab, photo, options_doc, ui_service):
    page = tab.page
    capture_forms(page)
    tab.goto("/")
    page.get_by_test_id("live").uncheck()
    page.get_by_test_id("format").select_option("jpeg")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    with page.expect_response(lambda r: r.url.endswith("/api/convert")):
        page.get_by_test_id("convert").click()
    sent = sent_forms(page)[-1]
    wanted = options_doc["ui_defaults"]["jpeg"]
    # The original page's settings: every mozjpeg option on, quantisation table 3, 4:2:0.
    for name in ("progressive", "optimize_scans", "trellis_quant", "overshoot_deringing", "optimize_coding"):
        assert wanted[name] is True and sent[name] == "true", name
    assert sent["quant_table"] == str(wanted["quant_table"]) == "3"
    assert sent["chroma_subsampling"] == wanted["chroma_subsampling"] == "4:2:0"
    assert sent["quality"] == str(wanted["quality"])

    name, data = download(tab)
    assert loader(data) == "jpegload_buffer"
    assert "4:2:0" in decode(data).get("jpeg-chroma-subsample")
    # What the first page sent (every mozjpeg option off, chroma auto) makes a bigger file.
    plain = httpx.post(
        ui_service.url + "/api/convert",
        files={"image": photo.read_bytes()},
        data={
            "format": "jpeg",
            "quality": "80",
            "progressive": "false",
            "optimize_coding": "true",
            "chroma_subsampling": "auto",
        },
        timeout=60,
    )
    assert plain.status_code == 200
    assert len(data) < len(plain.content)
    tab.shot("fix1-jpeg-defaults")


# ---------------------------------------------------------------- 5. each format its own quality


def test_each_format_keeps_its_own_quality(tab, photo, options_doc):
    page = tab.page
    capture_forms(page)
    tab.goto("/")
    quality = page.get_by_test_id("quality")
    for fmt in ("jpeg", "webp", "avif"):
        page.get_by_test_id("format").select_option(fmt)
        expect(quality).to_have_value(str(options_doc["ui_defaults"][fmt]["quality"]))
    assert options_doc["ui_defaults"]["avif"]["quality"] != options_doc["ui_defaults"]["webp"]["quality"]
    page.get_by_test_id("format").select_option("avif")
    quality.fill("42")
    page.get_by_test_id("format").select_option("webp")
    quality.fill("77")
    page.get_by_test_id("format").select_option("avif")
    expect(quality).to_have_value("42")
    page.reload()
    expect(page.get_by_test_id("format")).to_have_value("avif")
    expect(quality).to_have_value("42")
    page.get_by_test_id("format").select_option("webp")
    expect(quality).to_have_value("77")
    page.get_by_test_id("format").select_option("avif")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(page.get_by_test_id("result-size")).to_be_visible(timeout=60_000)
    assert sent_forms(page)[-1]["quality"] == "42"


# ---------------------------------------------------------------- 2. progress, errors and result in view

_WATCH_PROGRESS = """() => {
  window.__progressSeen = [];
  const p = document.getElementById('progress');
  new MutationObserver(() => {
    if (!p.hidden) {
      const r = p.getBoundingClientRect();
      window.__progressSeen.push({top: r.top, bottom: r.bottom, h: innerHeight});
    }
  }).observe(p, {attributes: true, attributeFilter: ['hidden']});
}"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_progress_error_and_result_stay_in_view(open_tab, photo, size):
    tab = open_tab(viewport=DESKTOP if size == "desktop" else PHONE, touch=size == "phone")
    page = tab.page
    upload(tab, photo)
    expect(page.get_by_test_id("result-size")).to_be_visible(timeout=30_000)
    quality = page.get_by_test_id("quality")
    quality.scroll_into_view_if_needed()
    assert page.evaluate("scrollY") > 0 if size == "phone" else True
    page.evaluate(_WATCH_PROGRESS)
    with page.expect_response(lambda r: r.url.endswith("/api/convert")):
        quality.fill("35")
    expect(page.get_by_test_id("result-size")).to_be_visible()
    seen = page.evaluate("window.__progressSeen")
    assert seen, "the progress bar was never shown"
    assert all(s["top"] >= 0 and s["bottom"] <= s["h"] for s in seen), f"progress off-screen: {seen}"
    for testid in ("quality", "result-size", "result-image"):
        assert in_viewport(page, page.get_by_test_id(testid)), f"{testid} is off-screen while the slider is in view"
    tab.shot(f"fix2-in-view-{size}", full_page=False)

    # An error of the service appears in view too, not at the bottom of the settings.
    page.get_by_test_id("width").scroll_into_view_if_needed()
    with page.expect_response(lambda r: r.url.endswith("/api/convert") and r.status == 400, timeout=15_000):
        page.get_by_test_id("width").fill("0")
    expect(page.get_by_test_id("error")).to_be_visible()
    assert in_viewport(page, page.get_by_test_id("error"))
    assert in_viewport(page, page.locator("#width-error"))
    tab.shot(f"fix2-error-in-view-{size}", full_page=False)


# ---------------------------------------------------------------- 3. compare divider


def divider_fraction(page) -> float:
    return page.evaluate("""() => {
      const s = document.getElementById('compare-stage').getBoundingClientRect();
      const d = document.getElementById('compare-divider').getBoundingClientRect();
      return (d.left + d.width / 2 - s.left) / s.width;
    }""")


def stage_point(page, fraction: float) -> tuple[float, float]:
    box = page.locator("#compare-stage").bounding_box()
    return box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2


def test_divider_follows_a_mouse_drag_only_while_pressed_and_the_keyboard(tab, photo):
    page = tab.page
    upload(tab, photo)
    expect(page.get_by_test_id("result-image")).to_be_visible(timeout=30_000)
    page.locator("#compare-stage").scroll_into_view_if_needed()
    page.mouse.move(*stage_point(page, 0.2))
    page.mouse.down()
    page.mouse.move(*stage_point(page, 0.5), steps=5)
    page.mouse.move(*stage_point(page, 0.7), steps=5)
    page.mouse.up()
    expect(page.get_by_test_id("compare-range")).to_have_value("70")
    assert abs(divider_fraction(page) - 0.70) < 0.02
    # Released: moving the mouse no longer moves the divider, and the browser started no image drag.
    page.mouse.move(*stage_point(page, 0.3), steps=5)
    expect(page.get_by_test_id("compare-range")).to_have_value("70")
    assert abs(divider_fraction(page) - 0.70) < 0.02
    assert page.evaluate("getSelection().toString()") == ""
    tab.shot("fix3-divider-mouse", full_page=False)

    rng = page.get_by_test_id("compare-range")
    rng.focus()
    page.keyboard.press("Home")
    expect(rng).to_have_value("0")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(rng).to_have_value("5")
    assert abs(divider_fraction(page) - 0.05) < 0.02
    page.reload()  # the position is remembered
    expect(page.get_by_test_id("compare-range")).to_have_value("5")


def test_divider_follows_a_touch_drag_without_scrolling_the_page(open_tab, photo):
    tab = open_tab(viewport=PHONE, touch=True)
    page = tab.page
    upload(tab, photo)
    expect(page.get_by_test_id("result-image")).to_be_visible(timeout=30_000)
    page.locator("#compare-stage").scroll_into_view_if_needed()
    scroll_before = page.evaluate("scrollY")
    cdp = tab.context.new_cdp_session(page)
    x0, y = stage_point(page, 0.15)
    x1, _ = stage_point(page, 0.8)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for i in range(1, 11):
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + (x1 - x0) * i / 10, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    value = int(page.get_by_test_id("compare-range").input_value())
    assert abs(value - 80) <= 2, value
    assert abs(divider_fraction(page) - value / 100) < 0.02
    assert page.evaluate("scrollY") == scroll_before, "the touch drag scrolled the page"
    tab.shot("fix3-divider-touch-phone", full_page=False)


# ---------------------------------------------------------------- 4. Download saves what the settings make


def test_download_with_live_preview_off_converts_the_current_settings(tab, photo):
    page = tab.page
    tab.goto("/")
    page.get_by_test_id("live").uncheck()
    page.get_by_test_id("format").select_option("webp")
    page.get_by_test_id("width").fill("500")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    page.get_by_test_id("convert").click()
    expect(page.get_by_test_id("result-dims")).to_contain_text("500 × 333", timeout=30_000)
    # Change the settings without converting: the result on screen is now stale.
    page.get_by_test_id("format").select_option("png")
    page.get_by_test_id("width").fill("300")
    expect(page.get_by_test_id("stale-note")).to_be_visible()
    name, data = download(tab)
    assert name == "holiday_300x200.png"
    assert loader(data) == "pngload_buffer" and decode(data).width == 300
    expect(page.get_by_test_id("stale-note")).to_be_hidden()


def test_download_after_a_failed_conversion_saves_nothing_stale(tab, photo):
    page = tab.page
    upload(tab, photo)
    expect(page.get_by_test_id("result-size")).to_be_visible(timeout=30_000)
    page.get_by_test_id("format").select_option("png")
    with page.expect_response(lambda r: r.url.endswith("/api/convert") and r.status == 400, timeout=15_000):
        page.get_by_test_id("width").fill("0")
    downloads: list = []
    page.on("download", lambda d: downloads.append(d))
    with page.expect_response(lambda r: r.url.endswith("/api/convert") and r.status == 400, timeout=15_000):
        page.get_by_test_id("download").click()
    page.wait_for_timeout(1000)
    assert downloads == [], "Download saved a result the current settings do not make"
    expect(page.get_by_test_id("error")).to_be_visible()
    page.get_by_test_id("width").fill("400")
    name, data = download(tab)
    assert name == "holiday_400x267.png" and decode(data).width == 400


# ---------------------------------------------------------------- 6. the rest


def test_the_upload_is_shown_at_once_on_both_pages(tab, photo):
    page = tab.page
    tab.goto("/")
    page.get_by_test_id("live").uncheck()  # no conversion at all: the original still shows
    page.get_by_test_id("file-input").set_input_files(str(photo))
    original = page.get_by_test_id("original-image")
    expect(original).to_be_visible()
    assert original.evaluate("img => img.complete && img.naturalWidth") == 1200
    expect(page.get_by_test_id("result-size")).to_be_hidden()
    assert (
        page.evaluate("performance.getEntriesByType('resource').filter(e => e.name.includes('/api/convert')).length")
        == 0
    )
    tab.goto("/batch")
    page.get_by_test_id("batch-file-input").set_input_files(str(photo))
    thumb = page.get_by_test_id("batch-original")
    expect(thumb).to_be_visible()
    assert thumb.evaluate("img => img.naturalWidth") == 1200


def test_korean_page_words_and_allowed_values(open_tab, photo):
    tab = open_tab(locale="ko-KR")
    page = tab.page
    upload(tab, photo)
    assert page.evaluate("getComputedStyle(document.querySelector('.subtitle')).wordBreak") == "keep-all"
    expect(page.locator("nav a[href='/batch']")).to_have_text("배치 변환")
    with page.expect_response(lambda r: r.url.endswith("/api/convert") and r.status == 400, timeout=30_000):
        page.get_by_test_id("width").fill("0")
    error = page.locator("#width-error")
    expect(error).to_contain_text("1부터 16383 사이의 정수")
    assert not re.search(r"[Aa]n integer|between", error.inner_text()), error.inner_text()
    tab.shot("fix6-korean-allowed")
    for path in ("/", "/batch"):
        tab.goto(path)
        assert "일괄" not in page.locator("body").inner_text()
    expect(page.locator("h1")).to_have_text("배치 변환")


def test_an_invalid_width_is_not_remembered(tab):
    page = tab.page
    tab.goto("/")
    page.get_by_test_id("width").fill("640")
    page.get_by_test_id("width").fill("0")
    page.reload()
    expect(page.get_by_test_id("width")).to_have_value("640")
    page.get_by_test_id("width").fill("99999")  # over MAX_OUTPUT_DIMENSION
    page.reload()
    expect(page.get_by_test_id("width")).to_have_value("640")


def _transfer(page, photo, name: str):
    return page.evaluate_handle(
        """([bytes, name]) => {
        const t = new DataTransfer();
        t.items.add(new File([new Uint8Array(bytes)], name, { type: "image/jpeg" }));
        return t;
    }""",
        [list(photo.read_bytes()), name],
    )


def test_a_file_dropped_on_the_preview_or_pasted_is_loaded(tab, photo):
    page = tab.page
    tab.goto("/")
    page.get_by_test_id("preview").dispatch_event("drop", {"dataTransfer": _transfer(page, photo, "dropped.jpg")})
    expect(page.get_by_test_id("original-name")).to_have_text("dropped.jpg")
    expect(page.get_by_test_id("result-size")).to_contain_text("bytes", timeout=30_000)
    page.evaluate(
        """t => document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: t, bubbles: true}))""",
        _transfer(page, photo, "pasted.jpg"),
    )
    expect(page.get_by_test_id("original-name")).to_have_text("pasted.jpg")
    expect(page.get_by_test_id("original-dims")).to_contain_text("1200 × 800")
    assert_contrast(page)
