"""Issue 10: both pages render their options from GET /api/options, not from a copy in the JavaScript."""

from __future__ import annotations

import httpx
import pytest
from apihelpers import Service
from playwright.sync_api import expect

TARGETS = {"score", "max_bytes", "min_score"}  # search targets, never per-format panel controls


def control_value(locator) -> object:
    return locator.evaluate("e => e.type === 'checkbox' ? e.checked : (e.type === 'range' ? Number(e.value) : e.value)")


def expected_value(value: object, kind: str) -> object:
    if kind == "checkbox":
        return bool(value)
    if kind == "range":
        return int(value)  # type: ignore[call-overload]
    return "" if value is None else str(value)


@pytest.mark.parametrize(
    ("path", "prefix", "format_testid"), [("/", "opt", "format"), ("/batch", "bopt", "batch-format")]
)
def test_panels_defaults_and_ranges_come_from_the_options_document(tab, path, prefix, format_testid):
    doc = httpx.get(tab.base + "/api/options").json()
    page = tab.page
    tab.goto(path)
    offered = page.get_by_test_id(format_testid).locator("option").evaluate_all("os => os.map(o => o.value)")
    assert offered == [f["name"] for f in doc["formats"]]
    for fmt in offered:
        page.get_by_test_id(format_testid).select_option(fmt)
        wanted = {
            o["name"]: next(d for d in o["domains"] if fmt in d["formats"])
            for o in doc["options"]
            if o["group"] == "encoder" and o["name"] not in TARGETS and any(fmt in d["formats"] for d in o["domains"])
        }
        shown = page.locator(f"fieldset.format-options[data-format={fmt}] [data-testid^=opt-{fmt}-]").evaluate_all(
            "es => es.map(e => e.name)"
        )
        assert sorted(shown) == sorted(wanted), f"{fmt}: the panel differs from the service's options"
        for name, domain in wanted.items():
            control = page.locator(f"#{prefix}-{fmt}-{name}")
            kind = control.evaluate("e => e.type")
            default = doc["ui_defaults"][fmt].get(name, domain["default"])
            assert control_value(control) == expected_value(default, kind), f"{fmt}.{name}"
            if kind == "range":
                assert control.get_attribute("min") == str(domain["minimum"])
                assert control.get_attribute("max") == str(domain["maximum"])
            elif domain["choices"]:
                values = control.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
                assert values == [str(c) for c in domain["choices"]], f"{fmt}.{name}"
        if path == "/":
            quality = page.get_by_test_id("quality")
            expect(quality).to_have_value(str(doc["ui_defaults"][fmt]["quality"]))
    if path == "/":
        fits = page.get_by_test_id("fit").locator("option").evaluate_all("os => os.map(o => o.value)")
        assert fits == next(o for o in doc["options"] if o["name"] == "fit")["domains"][0]["choices"]


@pytest.fixture(scope="module")
def small_service():
    svc = Service("e2e-small-limit", env={"MAX_OUTPUT_DIMENSION": "2000"}).start()
    yield svc
    svc.stop()


def test_the_width_limit_follows_the_service(open_tab, small_service):
    limits = httpx.get(small_service.url + "/api/options").json()["limits"]
    assert limits["max_output_dimension"] == 2000
    tab = open_tab(base=small_service.url)
    page = tab.page
    tab.goto("/")
    expect(page.get_by_test_id("width")).to_have_attribute("max", "2000")
    expect(page.get_by_test_id("height")).to_have_attribute("max", "2000")
    page.get_by_test_id("width").fill("2500")  # over the limit: not remembered
    page.reload()
    expect(page.get_by_test_id("width")).to_have_value("")
    tab.goto("/batch")
    page.get_by_test_id("batch-width-input").first.fill("2500")
    page.get_by_test_id("batch-file-input").set_input_files(
        files=[{"name": "a.png", "mimeType": "image/png", "buffer": b"\x89PNG"}]
    )
    page.get_by_test_id("batch-convert").click()
    expect(page.locator("#widths-error")).to_contain_text("2000")


def test_a_page_without_the_options_document_says_so(tab):
    page = tab.page
    page.route("**/api/options", lambda route: route.abort())  # the service unreachable for this one call
    page.goto(tab.base + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "failed", timeout=15_000)
    expect(page.get_by_test_id("error")).to_contain_text("options could not be loaded")
    assert tab.page_errors, "the page should stop with the reason in its console"
    tab.page_errors.clear()
