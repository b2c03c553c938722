"""With API keys on (API_KEYS), both pages ask for the key, keep it and send it with every request.

The service answers 401 {"error": {"code": "unauthorized"}} to any /api/* request without a valid
key; the page then shows its "API key" field. Files the page used to load by plain URL (the
viewer's images, the downloads) are fetched with the header and handed over as blob: URLs.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from apihelpers import Service, decode, jpeg, unzip
from e2ehelpers import assert_contrast, unlabeled_controls
from playwright.sync_api import expect
from test_e2e_batch import start_batch

KEY = "e2e-ui-key-0123456789abcdef"


@pytest.fixture(scope="module")
def keyed_service():
    svc = Service("e2e-api-keys", env={"API_KEYS": f"some-other-key-0000000000,{KEY}"}).start()
    yield svc
    svc.stop()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "harbour.jpg"
    path.write_bytes(jpeg(1200, 800))
    return path


def record_api(page) -> list[tuple[str, str, str | None, list[int]]]:
    """Every /api/* request the page makes: (method, path, X-API-Key sent, [status answered])."""
    seen: list[tuple[str, str, str | None, list[int]]] = []
    by_request: dict = {}

    def on_request(request):
        if urlsplit(request.url).path.startswith("/api/"):
            entry = (request.method, urlsplit(request.url).path, request.headers.get("x-api-key"), [])
            by_request[request] = entry
            seen.append(entry)

    def on_response(response):
        entry = by_request.get(response.request)
        if entry is not None:
            entry[3].append(response.status)

    page.on("request", on_request)
    page.on("response", on_response)
    return seen


def enter_key(page, key: str) -> None:
    page.get_by_label("API key").fill(key)
    page.get_by_test_id("api-key-save").click()


def test_without_keys_the_pages_show_no_key_field(tab):
    for path in ("/", "/batch"):
        tab.goto(path)
        expect(tab.page.get_by_test_id("api-key-form")).to_be_hidden()


def test_single_page_asks_for_the_key_then_converts_with_it(open_tab, keyed_service, photo):
    tab = open_tab(base=keyed_service.url)
    page = tab.page
    api = record_api(page)
    page.goto(keyed_service.url + "/")
    # The page's first request (the options document) is refused: the field appears, near the top.
    form = page.get_by_test_id("api-key-form")
    expect(form).to_be_visible()
    expect(page.get_by_test_id("api-key-error")).to_have_text("Enter the API key to continue.")
    assert form.bounding_box()["y"] < page.get_by_test_id("file-input").locator("..").bounding_box()["y"]
    assert page.locator("body").get_attribute("data-ready") is None
    assert api[0][:3] == ("GET", "/api/options", None) and api[0][3] == [401]

    # A wrong key: the service refuses it and the page says so beside the field.
    enter_key(page, "wrong-key-000000000000000000")
    error = form.get_by_test_id("api-key-error")
    expect(error).to_contain_text("refused this API key")
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    assert page.locator("body").get_attribute("data-ready") is None
    assert unlabeled_controls(page) == []
    assert_contrast(page)
    tab.shot("apikey-refused")

    # The right key: the refused request is sent again and the page starts.
    enter_key(page, KEY)
    page.wait_for_selector("body[data-ready=true]", state="attached")
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("api-key-status")).to_have_text("Key saved in this browser.")
    assert page.evaluate("localStorage.getItem('imageconv.apikey')") == KEY

    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/convert")) as sent:
        page.get_by_test_id("file-input").set_input_files(str(photo))
    assert sent.value.headers.get("x-api-key") == KEY
    expect(page.get_by_test_id("result-size")).to_contain_text("bytes", timeout=30_000)
    result = page.get_by_test_id("result-image")
    expect(result).to_have_attribute("src", re.compile(r"^blob:"))
    assert result.evaluate("img => img.decode().then(() => img.naturalWidth)") == 1200

    # The key is forgotten: the next conversion is refused, waits for a key, and is sent again.
    page.get_by_test_id("api-key-forget").click()
    expect(page.get_by_test_id("api-key-status")).to_have_text("The key was removed from this browser.")
    assert page.evaluate("localStorage.getItem('imageconv.apikey')") is None
    page.get_by_test_id("width").fill("300")
    expect(page.get_by_test_id("api-key-error")).to_have_text("Enter the API key to continue.", timeout=15_000)
    expect(page.locator("#progress .progress-text")).to_have_text("Waiting for the API key…")
    enter_key(page, KEY)
    expect(page.get_by_test_id("result-dims")).to_contain_text("300 × 200", timeout=30_000)
    expect(page.get_by_test_id("stale-note")).to_be_hidden()

    # Translated: the field in Korean.
    page.get_by_test_id("lang").select_option("ko")
    expect(form.locator("label")).to_have_text("API 키")
    expect(page.get_by_test_id("api-key-forget")).to_have_text("키 지우기")
    tab.shot("apikey-single")

    converts = [a for a in api if a[1] == "/api/convert"]
    assert [(key, status) for _, _, key, status in converts] == [(KEY, [200]), (None, [401]), (KEY, [200])]
    refused = [a for a in api if 401 in a[3]]
    assert [(a[1], a[2]) for a in refused] == [
        ("/api/options", None),
        ("/api/options", "wrong-key-000000000000000000"),
        ("/api/convert", None),
    ]


def test_batch_page_fills_the_grid_and_downloads_with_the_key(open_tab, keyed_service, photo):
    tab = open_tab(base=keyed_service.url)
    page = tab.page
    api = record_api(page)
    page.goto(keyed_service.url + "/batch")
    expect(page.get_by_test_id("api-key-form")).to_be_visible()
    enter_key(page, KEY)
    page.wait_for_selector("body[data-ready=true]", state="attached")
    cells = start_batch(tab, photo, [300, 600], [50, 80], fmt="jpeg", path=None)
    expect(page.locator("[data-testid=batch-cell][data-state=done]")).to_have_count(4, timeout=60_000)

    # The viewer's images are the cells' files, fetched with the key and shown from blob: URLs.
    cells.nth(0).locator("button").click()
    expect(page.get_by_test_id("viewer")).to_be_visible()
    images = page.locator("#viewer-panes img")
    expect(images).to_have_count(2)
    for i in range(2):
        expect(images.nth(i)).to_have_attribute("src", re.compile(r"^blob:"))
        assert images.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth)") == 300
    with page.expect_download() as info:
        page.get_by_test_id("viewer-download").click()
    assert info.value.suggested_filename == "harbour_300x200_q50.jpg"
    info.value.save_as(tab.tmp / "one.jpg")
    one = (tab.tmp / "one.jpg").read_bytes()
    assert len(one) == int(cells.nth(0).get_attribute("data-bytes")) and decode(one).width == 300
    page.keyboard.press("Escape")

    with page.expect_download() as info:
        page.get_by_test_id("batch-download-all").click()
    assert info.value.suggested_filename == "harbour_batch.zip"
    info.value.save_as(tab.tmp / "all.zip")
    entries = unzip((tab.tmp / "all.zip").read_bytes())
    assert len(entries) == 4
    assert sorted(decode(data).width for data in entries.values()) == [300, 300, 600, 600]
    tab.shot("apikey-batch")

    # Only the first options request went without a key; everything after carried it.
    assert api[0][:3] == ("GET", "/api/options", None) and api[0][3] == [401]
    after = api[1:]
    assert all(key == KEY for _, _, key, _ in after), [a for a in after if a[2] != KEY]
    assert all(401 not in status for *_, status in after)
    paths = {path for _, path, _, _ in after}
    assert "/api/jobs" in paths
    assert any(p.endswith("/archive") for p in paths)
    assert sum("/outputs/" in p for p in paths) == 2
