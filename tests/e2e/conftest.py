"""The real service on a free port and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apihelpers import ROOT, Service  # noqa: E402

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
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with `sudo apt-get install chromium` "
                    "(make test does this when it can), or set CHROMIUM to its path")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A browser tab that records every request it makes, to prove none leaves the service."""

    def __init__(self, browser, base: str, tmp: Path) -> None:
        self.context = browser.new_context(accept_downloads=True, locale="en-US")
        self.page = self.context.new_page()
        self.base = base
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.tmp = tmp

    def foreign_requests(self) -> list[str]:
        origin = urlsplit(self.base)
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob") and (urlsplit(u).scheme, urlsplit(u).netloc)
                != (origin.scheme, origin.netloc)]

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tab(browser, ui_service, tmp_path) -> Iterator[Page]:
    p = Page(browser, ui_service.url, tmp_path)
    yield p
    assert p.foreign_requests() == [], "the page made requests outside the service"
    p.context.close()
