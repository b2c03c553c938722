"""Checks the e2e tests share: contrast, labels, keyboard reach."""

from __future__ import annotations

# WCAG 2 contrast of every visible text against its composited background (4.5:1, 3:1 for large text).
_CONTRAST_JS = """() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    if (el.closest(":disabled")) continue;  // disabled controls are exempt
    const cs = getComputedStyle(el);
    const bg = background(el);
    let fg = parse(cs.color);
    if (fg.a < 1) fg = over(fg, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(cs.fontSize);
    const need = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
    const what = `${el.tagName.toLowerCase()}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 40)}"`;
    if (ratio < need) bad.push(`${what}: ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def assert_contrast(page) -> None:
    """Check the page as it is now in the light and the dark colour scheme."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        low = page.evaluate(_CONTRAST_JS)
        assert low == [], f"text below WCAG AA contrast in the {scheme} scheme: {low}"
    page.emulate_media(color_scheme="light")


def unlabeled_controls(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('input, select, button, textarea')]
        .filter(e => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label')
                     && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map(e => e.id || e.outerHTML.slice(0, 80))""")


def tab_through(page, presses: int = 60) -> set[str]:
    """The data-testid of every element the Tab key reaches."""
    seen: set[str] = set()
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        testid = page.evaluate("document.activeElement && document.activeElement.dataset.testid")
        if testid:
            seen.add(testid)
    return seen


_CAPTURE_FORMS = """(() => {
  // Chromium does not report multipart bodies with a file part: note each FormData as it is sent.
  window.__forms = [];
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (body) {
    if (body instanceof FormData) {
      const fields = {};
      for (const [k, v] of body.entries()) if (typeof v === "string") fields[k] = v;
      window.__forms.push(fields);
    }
    return send.call(this, body);
  };
})();"""


def capture_forms(page) -> None:
    """From the next navigation on, record the text fields of every form the page posts."""
    page.add_init_script(_CAPTURE_FORMS)


def sent_forms(page) -> list[dict[str, str]]:
    return page.evaluate("window.__forms || []")


def in_viewport(page, locator) -> bool:
    """Whether the element is entirely inside the visible part of the window."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        bool(box)
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"] + 1
        and box["x"] + box["width"] <= size["width"] + 1
    )
