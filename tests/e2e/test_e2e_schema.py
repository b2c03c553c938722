"""/schema renders the API documentation in Chromium from the service alone: Swagger UI's files are
served by the service (swagger-ui-py), so nothing is fetched from a CDN."""

from __future__ import annotations

from playwright.sync_api import expect


def test_schema_page_renders_with_no_request_leaving_the_service(tab):
    page = tab.page
    # Anything for another origin fails at once, as it would on a machine without internet.
    tab.context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(tab.base) or route.request.url.startswith("data:")
            else route.abort()
        ),
    )
    page.goto(tab.base + "/schema")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Image conversion service", timeout=30_000)
    paths = page.locator(".opblock-summary-path")
    expect(paths.filter(has_text="/api/convert")).to_have_count(1)
    expect(paths.filter(has_text="/api/options")).to_have_count(1)
    page.locator(".opblock-summary-path", has_text="/api/convert").click()
    parameters = page.locator(".parameters-container")
    expect(parameters).to_contain_text("width")
    expect(parameters).to_contain_text("trellis_quant")
    tab.shot("schema")
    assert tab.foreign_requests() == []
    assert any(u.endswith("/schema-assets/swagger-ui-bundle.js") for u in tab.requests)
