"""The pages work under a strict Content-Security-Policy (the reliability work adds one to the UI).

The real service answers every request; the browser is told to enforce the policy below on top,
and every violation the page reports fails the test. No inline script or style, no eval, nothing
from another origin; styles set from JavaScript through the CSSOM are allowed by CSP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from apihelpers import jpeg
from conftest import PHONE
from playwright.sync_api import expect
from test_e2e_batch import start_batch

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

_WATCH = """() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
}"""


def enforce_policy(tab) -> list[str]:
    """Serve every page with POLICY added; returns the list that collects console CSP reports."""
    reports: list[str] = []

    def with_policy(route):
        response = route.fetch()
        headers = {**response.headers, "content-security-policy": POLICY}
        route.fulfill(response=response, headers=headers)

    # Only the two pages: a CSP header counts on the document, and routing uploads would lose their files.
    tab.page.route(lambda url: urlsplit(url).path in ("/", "/batch"), with_policy)
    tab.page.on("console", lambda m: reports.append(m.text) if "Content Security Policy" in m.text else None)
    tab.page.add_init_script(f"({_WATCH})()")
    return reports


@pytest.mark.parametrize("viewport", [None, PHONE])
def test_both_pages_run_under_a_strict_policy(open_tab, tmp_path, viewport):
    photo = tmp_path / "lake.jpg"
    photo.write_bytes(jpeg(900, 600))
    tab = open_tab(viewport=viewport)
    reports = enforce_policy(tab)
    page = tab.page
    tab.goto("/")
    page.get_by_test_id("file-input").set_input_files(str(photo))
    expect(page.get_by_test_id("result-size")).to_be_visible(timeout=30_000)
    page.get_by_test_id("compare-range").fill("30")
    page.get_by_text("Side by side").click()
    assert page.evaluate("window.__violations") == []

    start_batch(tab, photo, [300, 600], [50, 80], fmt="webp")
    expect(page.locator("[data-testid=batch-cell][data-state=done]")).to_have_count(4, timeout=60_000)
    page.get_by_test_id("pick-mode").select_option("bytes")
    page.get_by_test_id("pick-value").fill("1000000")
    page.get_by_test_id("pick-best").click()
    page.get_by_test_id("chart-point").first.click()
    expect(page.get_by_test_id("viewer")).to_be_visible()
    images = page.locator("#viewer-panes img")
    for i in range(images.count()):  # no wait_for_function: Playwright evaluates its string with eval
        expect(images.nth(i)).to_have_js_property("complete", True)
    page.locator("label[for=viewer-mode-ab]").click()
    page.keyboard.press("Escape")
    assert page.evaluate("window.__violations") == []
    assert reports == []
    # The policy is really enforced here: an inline style attribute is refused and reported.
    page.evaluate("""document.body.insertAdjacentHTML('beforeend', '<p style="color: red">x</p>')""")
    page.wait_for_timeout(300)
    assert any("style-src" in v for v in page.evaluate("window.__violations"))
    tab.shot("csp-batch" if viewport is None else "csp-batch-phone")
