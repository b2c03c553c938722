"""The single-conversion page in real Chromium against the real service."""

from __future__ import annotations

import re

import pytest
from apihelpers import decode, jpeg, loader
from e2ehelpers import assert_contrast, tab_through, unlabeled_controls
from playwright.sync_api import expect

LOADERS = {
    "webp": "webpload_buffer",
    "avif": "heifload_buffer",
    "jpeg": "jpegload_buffer",
    "png": "pngload_buffer",
    "tiff": "tiffload_buffer",
}
EXTENSIONS = {"webp": "webp", "avif": "avif", "jpeg": "jpg", "png": "png", "tiff": "tiff"}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(jpeg(1200, 800))
    return path


def shown_bytes(page) -> int:
    text = page.get_by_test_id("result-size").inner_text()
    return int(re.search(r"([\d,]+)\s*(bytes|바이트)", text).group(1).replace(",", ""))


def download(tab, testid: str = "download"):
    with tab.page.expect_download() as info:
        tab.page.get_by_test_id(testid).click()
    path = tab.tmp / info.value.suggested_filename
    info.value.save_as(path)
    return info.value.suggested_filename, path.read_bytes()


def upload(tab, photo) -> None:
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(page.get_by_test_id("original-dims")).to_contain_text("1200 × 800")
    expect(page.get_by_test_id("original-size")).to_contain_text(f"{photo.stat().st_size} bytes")


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_convert_preview_and_download(tab, photo, fmt):
    page = tab.page
    upload(tab, photo)
    page.get_by_test_id("format").select_option(fmt)
    page.get_by_test_id("width").fill("480")
    expect(page.get_by_test_id("height")).to_have_value("320")  # aspect ratio kept by default
    page.get_by_test_id("quality").fill("60")
    page.get_by_test_id("convert").click()
    expect(page.get_by_test_id("result-dims")).to_contain_text("480 × 320", timeout=30_000)
    expect(page.get_by_test_id("result-image")).to_have_attribute("src", re.compile("^blob:"))
    assert page.get_by_test_id("result-image").evaluate("img => img.naturalWidth") == 480  # the browser shows it
    expect(page.get_by_test_id("result-reduction")).to_have_text(re.compile(r"\d+(\.\d)?% smaller"))

    size = shown_bytes(page)
    name, data = download(tab)
    assert len(data) == size, "the size shown is the size of the file downloaded"
    assert loader(data) == LOADERS[fmt]
    image = decode(data)
    assert (image.width, image.height) == (480, 320)
    assert name == f"holiday_480x320_q60.{fmt}"
    tab.shot(f"single-{fmt}")
    if fmt == "webp":
        assert_contrast(page)
        page.get_by_text("Side by side").click()
        tab.shot("single-side-by-side")


def test_tiff_is_downloadable_though_browsers_cannot_show_it(tab, photo):
    page = tab.page
    upload(tab, photo)
    page.get_by_test_id("format").select_option("tiff")
    expect(page.get_by_test_id("quality")).to_be_disabled()  # LZW: quality does not apply
    page.get_by_test_id("width").fill("300")
    page.get_by_test_id("convert").click()
    expect(page.get_by_test_id("result-note")).to_contain_text("TIFF", timeout=30_000)
    name, data = download(tab)
    assert len(data) == shown_bytes(page)
    assert loader(data) == LOADERS["tiff"] and decode(data).width == 300
    assert name == "holiday_300x200.tiff"


def test_dropping_a_file_loads_it_and_previews_it(tab, photo):
    page = tab.page
    page.goto(tab.base + "/")
    data = list(photo.read_bytes())
    transfer = page.evaluate_handle(
        """bytes => {
        const t = new DataTransfer();
        t.items.add(new File([new Uint8Array(bytes)], "dropped.jpg", { type: "image/jpeg" }));
        return t;
    }""",
        data,
    )
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.get_by_test_id("original-name")).to_have_text("dropped.jpg")
    expect(page.get_by_test_id("original-dims")).to_contain_text("1200 × 800")
    expect(page.get_by_test_id("result-size")).to_contain_text("bytes", timeout=30_000)  # live preview


def test_each_format_shows_its_own_options(tab):
    page = tab.page
    page.goto(tab.base + "/")
    own = {
        "jpeg": "opt-jpeg-trellis_quant",
        "png": "opt-png-compression",
        "webp": "opt-webp-lossless",
        "avif": "opt-avif-bitdepth",
        "tiff": "opt-tiff-compression",
    }
    jpeg_only = [
        "opt-jpeg-progressive",
        "opt-jpeg-optimize_scans",
        "opt-jpeg-trellis_quant",
        "opt-jpeg-overshoot_deringing",
        "opt-jpeg-optimize_coding",
    ]
    for fmt, testid in own.items():
        page.get_by_test_id("format").select_option(fmt)
        expect(page.get_by_test_id(testid)).to_be_visible()
        for other, other_id in own.items():
            if other != fmt:
                expect(page.get_by_test_id(other_id)).to_be_hidden()
        for testid in jpeg_only:
            expect(page.get_by_test_id(testid)).to_be_visible() if fmt == "jpeg" else expect(
                page.get_by_test_id(testid)
            ).to_be_hidden()


def test_bad_file_shows_the_error_next_to_the_file_picker(tab, tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"this is plain text, not a JPEG")
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("file-input").set_input_files(str(bad))
    next_to_picker = page.locator("#file-error")
    expect(next_to_picker).to_be_visible(timeout=15_000)
    expect(next_to_picker).to_contain_text("cannot be read as an image")
    expect(page.get_by_test_id("error")).to_contain_text("cannot be read as an image")
    page.get_by_test_id("convert").click()  # asking again says it again, not nothing
    expect(next_to_picker).to_contain_text("cannot be read as an image")
    expect(page.get_by_test_id("download")).to_be_disabled()
    assert_contrast(page)
    tab.shot("single-error")


def test_api_option_error_is_shown_next_to_its_control(tab, photo):
    page = tab.page
    upload(tab, photo)
    expect(page.get_by_test_id("result-size")).to_be_visible(timeout=30_000)  # the live preview ran
    with page.expect_response(lambda r: "/api/convert" in r.url and r.status == 400, timeout=15_000):
        page.get_by_test_id("width").fill("0")  # the page leaves validation to the API on purpose
    width_error = page.locator("#width-error")
    expect(width_error).to_be_visible()
    expect(width_error).to_contain_text("“0” is not a valid value for “Width (px)”")
    expect(page.get_by_test_id("width")).to_have_attribute("aria-invalid", "true")


def test_settings_survive_a_reload(tab):
    page = tab.page
    page.goto(tab.base + "/")
    page.get_by_test_id("format").select_option("jpeg")
    expect(page.get_by_test_id("opt-jpeg-trellis_quant")).to_be_checked()  # the service's preselection
    page.get_by_test_id("opt-jpeg-trellis_quant").uncheck()
    page.get_by_test_id("width").fill("640")
    page.get_by_test_id("quality").fill("72")
    page.reload()
    expect(page.get_by_test_id("format")).to_have_value("jpeg")
    expect(page.get_by_test_id("width")).to_have_value("640")
    expect(page.get_by_test_id("quality")).to_have_value("72")
    expect(page.get_by_test_id("opt-jpeg-trellis_quant")).not_to_be_checked()


def test_language_follows_the_browser_and_can_be_switched(open_tab):
    korean = open_tab(locale="ko-KR")
    page = korean.page
    page.goto(korean.base + "/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_test_id("convert")).to_have_text("변환")
    expect(page.get_by_test_id("lang")).to_have_value("ko")
    assert (
        page.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
        .filter(e => e.textContent === e.dataset.i18n).map(e => e.dataset.i18n)""")
        == []
    )  # no raw keys
    korean.shot("single-korean")
    page.get_by_test_id("lang").select_option("en")
    expect(page.get_by_test_id("convert")).to_have_text("Convert")
    page.reload()
    expect(page.get_by_test_id("convert")).to_have_text("Convert")  # the choice is remembered

    english = open_tab(locale="en-GB")
    english.page.goto(english.base + "/")
    expect(english.page.get_by_test_id("convert")).to_have_text("Convert")


@pytest.mark.parametrize(
    ("path", "reachable"),
    [
        ("/", {"file-input", "width", "height", "lock", "format", "quality", "convert", "lang"}),
        (
            "/batch",
            {
                "batch-file-input",
                "batch-width-input",
                "batch-add-width",
                "batch-quality-input",
                "batch-add-quality",
                "batch-format",
                "batch-convert",
                "lang",
            },
        ),
    ],
)
def test_keyboard_labels_and_contrast(tab, path, reachable):
    page = tab.page
    page.goto(tab.base + path)
    assert reachable <= tab_through(page)
    assert unlabeled_controls(page) == []
    assert_contrast(page)
