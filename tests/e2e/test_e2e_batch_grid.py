"""Issue 12: the batch grid as a decision tool (fit, pick best, chart, viewer, export)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from apihelpers import jpeg
from conftest import DESKTOP, PHONE
from e2ehelpers import assert_contrast, unlabeled_controls
from playwright.sync_api import expect
from test_e2e_batch import job_status, run_batch

WIDTHS = [240, 320, 480, 640, 800, 1000]
QUALITIES = [30, 40, 50, 60, 70, 75, 80, 85, 90, 95]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "coast.jpg"
    path.write_bytes(jpeg(1000, 640))
    return path


def grid_cells(status: dict, widths: list[int], qualities: list[int]) -> dict[tuple[int, int], dict]:
    """Every (requested width, quality) of the grid and the output the service made for it."""
    outs = {(o["requested_width"], o["quality"]): o for o in status["outputs"]}
    return {(w, q): outs[(w, q)] for w in widths for q in qualities}


def exhaustive_pick(cells: dict[tuple[int, int], dict], mode: str, value: float) -> dict[int, tuple[int, int] | None]:
    """The best cell of each width by checking every cell, the rule as the page states it."""
    best: dict[int, tuple[int, int] | None] = {}
    for w in sorted({w for w, _ in cells}):
        row = [(key, out) for key, out in cells.items() if key[0] == w and out["state"] == "done"]
        if mode == "score":
            fits = [
                (out["bytes"], -out["score"], key)
                for key, out in row
                if out["score"] is not None and out["score"] >= value
            ]
        else:
            # Without scores the page ranks by quality, as its hint says.
            fits = [
                (-(out["score"] if out["score"] is not None else key[1]), out["bytes"], key)
                for key, out in row
                if out["bytes"] <= value
            ]
        best[w] = min(fits)[-1] if fits else None
    return best


def chosen_cells(page) -> dict[int, tuple[int, int]]:
    keys = page.locator("[data-testid=batch-cell].chosen").evaluate_all(
        "tds => tds.map(td => [Number(td.dataset.width), Number(td.dataset.quality)])"
    )
    return {w: (w, q) for w, q in keys}


def test_six_by_ten_grid_fits_1280_and_pick_best_equals_an_exhaustive_check(open_tab, photo):
    tab = open_tab(viewport=DESKTOP)
    page = tab.page
    run_batch(tab, photo, WIDTHS, QUALITIES, fmt="jpeg")
    widths = page.evaluate("""() => {
        const box = document.getElementById('grid-scroll');
        return {page: document.documentElement.scrollWidth, window: innerWidth,
                grid: box.scrollWidth, box: box.clientWidth};
    }""")
    assert widths["page"] <= widths["window"] and widths["grid"] <= widths["box"], (
        f"horizontal scroll at 1280 px: {widths}"
    )
    assert_contrast(page)
    assert unlabeled_controls(page) == []
    tab.shot("grid-6x10-desktop")

    cells = grid_cells(job_status(tab), WIDTHS, QUALITIES)
    scored = all(out["score"] is not None for out in cells.values())
    sizes = sorted(out["bytes"] for out in cells.values())
    budgets = [sizes[len(sizes) // 4], sizes[len(sizes) // 2], sizes[0] - 1]  # the last fits no cell at all
    for budget in budgets:
        page.get_by_test_id("pick-mode").select_option("bytes")
        page.get_by_test_id("pick-value").fill(str(budget))
        page.get_by_test_id("pick-best").click()
        wanted = exhaustive_pick(cells, "bytes", budget)
        assert chosen_cells(page) == {w: k for w, k in wanted.items() if k}, f"budget {budget}"
    if scored:
        for threshold in (0.9, 0.97, 1.01):
            page.get_by_test_id("pick-mode").select_option("score")
            page.get_by_test_id("pick-value").fill(str(threshold))
            page.get_by_test_id("pick-best").click()
            wanted = exhaustive_pick(cells, "score", threshold)
            assert chosen_cells(page) == {w: k for w, k in wanted.items() if k}, f"threshold {threshold}"

    # Export: the chosen cells' files and sizes, ready to paste.
    page.get_by_test_id("pick-mode").select_option("bytes")
    page.get_by_test_id("pick-value").fill(str(budgets[1]))
    page.get_by_test_id("pick-best").click()
    snippet = page.get_by_test_id("export-code").input_value()
    assert snippet.startswith("<picture>") and "srcset=" in snippet
    for key in chosen_cells(page).values():
        out = cells[key]
        assert f"{out['name']} {out['width']}w" in snippet
        assert f"{out['bytes']} bytes" in snippet
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.base)
    page.get_by_test_id("export-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    tab.shot("grid-picked-export")


def image_places(page) -> list[list[float]]:
    """Where each viewer pane shows its image: left, top, width, height in CSS px."""
    return page.locator("#viewer-panes img").evaluate_all(
        "imgs => imgs.map(i => [i.style.left, i.style.top, i.style.width, i.style.height].map(parseFloat))"
    )


def same_place(a: list[float], b: list[float]) -> bool:
    return all(abs(x - y) < 1 for x, y in zip(a, b, strict=True))  # panes differ by a fraction of a px


def test_chart_viewer_keys_and_synced_ab(open_tab, photo):
    tab = open_tab(viewport=DESKTOP)
    page = tab.page
    widths, qualities = [320, 640, 1000], [40, 60, 80]
    run_batch(tab, photo, widths, qualities, fmt="webp")
    points = page.get_by_test_id("chart-point")
    expect(points).to_have_count(9)  # one per distinct output, one line per width
    assert page.locator("#chart polyline").count() == 3
    key = points.nth(4).get_attribute("data-key")
    points.nth(4).click()
    viewer = page.get_by_test_id("viewer")
    expect(viewer).to_be_visible()
    w, q = key.split("/")
    expect(viewer).to_have_attribute("data-width", w)
    expect(viewer).to_have_attribute("data-quality", q)

    # The same crop of every quality at this width, side by side, each its own file.
    panes = page.get_by_test_id("viewer-pane")
    expect(panes).to_have_count(3)
    # Polled from here: wait_for_function compiles its string with eval, which the page's CSP forbids.
    loaded = "imgs => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)"
    deadline = time.monotonic() + 30
    while not page.locator("#viewer-panes img").evaluate_all(loaded):
        assert time.monotonic() < deadline, "the viewer's images did not load"
        page.wait_for_timeout(100)
    natural = page.locator("#viewer-panes img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert natural == [int(w)] * 3
    tab.shot("viewer-strip", full_page=False)
    assert unlabeled_controls(page) == []
    assert_contrast(page)

    # Arrow keys: right is the next quality, down the next width.
    page.get_by_test_id("viewer-fit").focus()
    page.keyboard.press("ArrowLeft")
    expect(viewer).to_have_attribute("data-quality", str(qualities[qualities.index(int(q)) - 1]))
    page.keyboard.press("ArrowDown")
    expect(viewer).to_have_attribute("data-width", str(widths[widths.index(int(w)) + 1]))
    page.keyboard.press("ArrowRight")
    expect(viewer).to_have_attribute("data-quality", q)

    # Every cell of the grid at once, each showing the same crop after a zoom.
    page.locator("label[for=viewer-mode-all]").click()
    expect(panes).to_have_count(9)
    page.get_by_test_id("viewer-actual").click()
    page.get_by_label("Zoom in").click()
    placed = image_places(page)
    assert len(placed) == 9 and all(same_place(placed[0], p) for p in placed), placed
    tab.shot("viewer-all-cells", full_page=False)

    # A/B against the original: zoom and pan move both panes alike.
    page.locator("label[for=viewer-mode-ab]").click()
    page.get_by_test_id("viewer-b").select_option("original")
    expect(panes).to_have_count(2)
    page.get_by_test_id("viewer-actual").click()
    box = panes.first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 120, box["y"] + box["height"] / 2 - 60, steps=6)
    page.mouse.up()
    placed = image_places(page)
    assert len(placed) == 2 and same_place(*placed), placed
    assert page.get_by_test_id("viewer-panes").get_attribute("data-cx") != "0.5000"
    page.get_by_test_id("viewer-b").select_option(f"{widths[0]}/{qualities[0]}")  # A/B of two cells
    placed = image_places(page)
    assert same_place(*placed), placed
    tab.shot("viewer-ab", full_page=False)
    page.get_by_test_id("viewer-choose").click()
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=batch-cell].chosen")).to_have_count(1)
    expect(page.get_by_test_id("export-code")).to_have_value(re.compile("^<picture>"))


def test_six_by_ten_grid_works_on_a_phone(open_tab, photo):
    tab = open_tab(viewport=PHONE, touch=True)
    page = tab.page
    cells = run_batch(tab, photo, WIDTHS, QUALITIES, fmt="jpeg")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    last = cells.nth(59)
    last.scroll_into_view_if_needed()
    last.locator("button").tap()
    viewer = page.get_by_test_id("viewer")
    expect(viewer).to_be_visible()
    expect(viewer).to_have_attribute("data-width", str(WIDTHS[-1]))
    box = viewer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    tab.shot("viewer-phone", full_page=False)
    page.keyboard.press("Escape")
    tab.shot("grid-6x10-phone")


def test_score_option_offered_only_when_the_service_has_it(tab):
    has_score = any(o["name"] == "score" for o in httpx.get(tab.base + "/api/options").json()["options"])
    tab.goto("/batch")
    box = tab.page.get_by_test_id("batch-score")
    if has_score:
        expect(box).to_be_checked()
    else:
        expect(box).to_be_hidden()


def test_pick_best_by_score_equals_an_exhaustive_check_on_scored_grids(tab):
    """The page's own rule (grid-tools.js) on grids with scores, ties and failed cells, against Python."""
    import random

    rng = random.Random(12)
    tab.goto("/batch")
    for trial in range(20):
        widths = rng.sample([160, 320, 480, 640, 800, 1200], k=rng.randint(1, 6))
        qualities = rng.sample(range(10, 100, 5), k=rng.randint(1, 10))
        cells: dict[tuple[int, int], dict] = {}
        for w in widths:
            for q in qualities:
                state = "failed" if rng.random() < 0.1 else "done"
                score = round(rng.uniform(0.85, 1.0), 2) if rng.random() < 0.9 else None  # ties on purpose
                cells[(w, q)] = {"state": state, "bytes": rng.choice([w * q, w * q // 2, 5000]), "score": score}
        js_cells = [{"key": f"{w}/{q}", "width": w, "quality": q, "out": out} for (w, q), out in cells.items()]
        for mode, value in (("score", rng.uniform(0.85, 1.0)), ("bytes", rng.randint(1000, 60000))):
            picked = page_pick(tab.page, js_cells, mode, value)
            wanted = exhaustive_pick(cells, mode, value)
            # Equal up to ties: the same bytes and score as the exhaustive choice.
            for w in widths:
                got, want = picked[str(w)], wanted[w]
                assert (got is None) == (want is None), (trial, mode, value, w)
                if want is not None:
                    a, b = cells[tuple(got)], cells[want]
                    assert (a["bytes"], a["score"]) == (b["bytes"], b["score"]), (trial, mode, value, w)


def page_pick(page, cells: list[dict], mode: str, value: float) -> dict[str, list[int] | None]:
    return page.evaluate(
        """async ([cells, mode, value]) => {
            const { pickBest } = await import('/static/grid-tools.js');
            const picks = pickBest(cells, mode, value);
            return Object.fromEntries([...picks].map(([w, c]) => [String(w), c ? [c.width, c.quality] : null]));
        }""",
        [cells, mode, value],
    )
