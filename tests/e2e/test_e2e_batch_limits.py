"""Issue 9: the batch page never makes a request over API Gateway's limits (10 MB, 30 s).

Every request the page makes is recorded by the browser with its size both ways and its time to
the last byte, for the largest grid the page allows (6 widths x 10 qualities) of a 4K photo as
PNG, and for an AVIF grid that takes several times the (lowered) request deadline.
"""

from __future__ import annotations

import time

import pytest
from apihelpers import Service, jpeg, noise
from conftest import DESKTOP
from playwright.sync_api import expect
from test_e2e_batch import start_batch

GATEWAY_BYTES = 10 * 1024 * 1024
GATEWAY_SECONDS = 30


def assert_within_gateway(tab) -> None:
    finished = tab.finished()
    assert finished, "no request was recorded"
    too_big = [(f.url, f.sent, f.received) for f in finished if f.sent > GATEWAY_BYTES or f.received > GATEWAY_BYTES]
    too_long = [(f.url, f.seconds) for f in finished if f.seconds > GATEWAY_SECONDS]
    assert too_big == [], f"requests over 10 MB: {too_big}"
    assert too_long == [], f"requests over 30 s: {too_long}"


_WATCH_PROGRESS = """() => {
  window.__progress = [];
  const bar = document.querySelector('#progress progress');
  const text = document.querySelector('#progress .progress-text');
  new MutationObserver(() => window.__progress.push([text.textContent, bar.value, bar.max]))
    .observe(text, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def png_service():
    # The whole pool may serve jobs here: nothing interactive competes, and the grid is large.
    svc = Service("e2e-png-grid", env={"JOB_WORKER_SHARE": "1"}).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def avif_service():
    svc = Service("e2e-avif-grid", env={"REQUEST_DEADLINE_SECONDS": "2", "JOB_WORKER_SHARE": "1"}).start()
    yield svc
    svc.stop()


def test_six_by_ten_png_grid_of_a_4k_photo_stays_within_the_gateway(open_tab, png_service, tmp_path):
    photo = tmp_path / "storm.jpg"
    photo.write_bytes(jpeg(3840, 2400))
    tab = open_tab(viewport=DESKTOP, base=png_service.url)
    page = tab.page
    widths = [640, 1280, 1920, 2560, 3200, 3840]
    qualities = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    start_batch(tab, photo, widths, qualities, fmt="png")
    # Palette off (the service's default): lossless, so the qualities make no difference, and the page
    # says so; the 4K outputs are then over 10 MB each, the case the gateway cannot carry.
    expect(page.get_by_test_id("batch-qualities-hint")).to_contain_text("quality has no effect")
    done = page.locator("[data-testid=batch-cell][data-state=done]")
    expect(done).to_have_count(60, timeout=600_000)
    expect(page.get_by_test_id("batch-progress-text")).to_contain_text("took")
    # Open the largest cell: its file is fetched only when it is under the gateway's limit.
    largest = max(range(60), key=lambda i: int(done.nth(i).get_attribute("data-bytes")))
    done.nth(largest).locator("button").click()
    expect(page.get_by_test_id("viewer-pane").first).to_be_visible()
    page.wait_for_timeout(1500)
    # Two widths narrower (2560 px): outputs just under the limit, one request each for the panes.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.get_by_test_id("viewer")).to_have_attribute("data-width", "2560")
    images = page.locator("#viewer-panes img")
    expect(images.first).to_be_visible()
    for i in range(images.count()):
        expect(images.nth(i)).to_have_js_property("complete", True, timeout=60_000)
    page.keyboard.press("Escape")
    tab.shot("batch-png-6x10-4k")
    assert_within_gateway(tab)
    fetched = [f for f in tab.finished() if "/outputs/" in f.url]
    assert fetched, "the viewer fetched no output"
    over = [done.nth(i) for i in range(60) if int(done.nth(i).get_attribute("data-bytes")) > GATEWAY_BYTES]
    assert over, "a lossless 4K PNG should be over 10 MB: the test would not show the gateway case"
    for cell in over:  # an output too large for the gateway says so on its cell
        expect(cell).to_contain_text("10 MB")


def test_avif_grid_longer_than_the_request_deadline_fills_every_cell(open_tab, avif_service, tmp_path):
    # Noise, not a photo: AVIF at its default effort 3 encodes a 1920 px photo grid within a few
    # deadlines on a quiet machine, and this test must outlast several of them.
    photo = tmp_path / "harbour.jpg"
    photo.write_bytes(noise(1920, 1200).jpegsave_buffer(Q=90))
    tab = open_tab(viewport=DESKTOP, base=avif_service.url)
    page = tab.page
    tab.goto("/batch")
    page.evaluate(_WATCH_PROGRESS)
    started = time.monotonic()
    start_batch(tab, photo, [480, 960, 1920], [30, 60, 90], fmt="avif", path=None)
    expect(page.locator("[data-testid=batch-cell][data-state=done]")).to_have_count(9, timeout=300_000)
    took = time.monotonic() - started
    deadline = 2
    assert took > 3 * deadline, f"the grid took {took:.1f} s: not several request deadlines, the test proves nothing"
    expect(page.get_by_test_id("error")).to_be_hidden()
    assert_within_gateway(tab)
    # A real progress bar: done/total as cells finish, with an estimate of the time left meanwhile.
    seen = page.evaluate("window.__progress")
    assert any("left" in text and value < total for text, value, total in seen), seen
    assert seen[-1][1] == seen[-1][2] == 9 and "took" in seen[-1][0], seen[-1]
    polls = [f for f in tab.finished() if "/api/jobs/" in f.url and "wait=" in f.url]
    assert polls, "the page did not long-poll the job"
    tab.shot("batch-avif-past-deadline")
