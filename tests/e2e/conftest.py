"""The real service on a free port and Debian's Chromium driven by Playwright (never a downloaded browser).

Every tab records each request its context makes; a test fails if any left the service's origin
(data: and blob: URLs stay inside the page and are allowed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apihelpers import ROOT, Service

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-output" / "e2e"


@pytest.fixture(scope="session")
def ui_service() -> Iterator[Service]:
    svc = Service("e2e").start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's with `sudo apt-get install chromium` "
            "(make test does this when it can), or set CHROMIUM to its path. "
            "These tests never download a browser."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Finished:
    """One request the page made, measured by the browser: bytes each way and time to the last byte."""

    method: str
    url: str
    status: int
    sent: int
    received: int
    seconds: float


class Tab:
    """A browser tab that records every request its context makes, to prove none leaves the service."""

    def __init__(
        self, browser, base: str, tmp: Path, locale: str, viewport: dict | None = None, touch: bool = False
    ) -> None:
        options: dict = {"accept_downloads": True, "locale": locale, "viewport": viewport or DESKTOP}
        if touch:
            options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
        self.context = browser.new_context(**options)
        self.base = base
        self.requests: list[str] = []
        self._finished: list = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.context.on("requestfinished", lambda r: self._finished.append(r))
        self.page = self.context.new_page()
        self.page_errors: list[str] = []  # uncaught exceptions in the pages' scripts
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.tmp = tmp

    def finished(self) -> list[Finished]:
        """Every request that completed so far, measured (read after the fact, not in the event)."""
        out = []
        for request in list(self._finished):
            sizes = request.sizes()
            response = request.response()
            out.append(
                Finished(
                    request.method,
                    request.url,
                    response.status if response else 0,
                    sizes["requestBodySize"] + sizes["requestHeadersSize"],
                    sizes["responseBodySize"] + sizes["responseHeadersSize"],
                    max(0.0, request.timing["responseEnd"]) / 1000,
                )
            )
        return out

    def goto(self, path: str) -> None:
        """Open a page and wait until it has applied the service's options document."""
        self.page.goto(self.base + path)
        self.page.wait_for_selector("body[data-ready=true]", state="attached")

    def foreign_requests(self) -> list[str]:
        origin = urlsplit(self.base)
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                foreign.append(url)
        return foreign

    def api_requests(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).path.startswith("/api/")]

    def shot(self, name: str, full_page: bool = True) -> None:
        """A screenshot kept under test-output/e2e; full_page=False shows what is in view."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def open_tab(browser, ui_service, tmp_path) -> Iterator[Callable[..., Tab]]:
    tabs: list[Tab] = []

    def make(locale: str = "en-US", viewport: dict | None = None, touch: bool = False, base: str | None = None) -> Tab:
        tab = Tab(browser, base or ui_service.url, tmp_path, locale, viewport, touch)
        tabs.append(tab)
        return tab

    yield make
    foreign = [url for tab in tabs for url in tab.foreign_requests()]
    errors = [e for tab in tabs for e in tab.page_errors]
    for tab in tabs:
        tab.context.close()
    assert foreign == [], f"the pages made requests outside the service: {foreign}"
    assert errors == [], f"the pages' scripts threw: {errors}"


@pytest.fixture
def tab(open_tab) -> Tab:
    return open_tab()
