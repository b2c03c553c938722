// Score against bytes, one line per width, drawn as SVG elements (no library, nothing inline
// for the Content-Security-Policy to refuse). Every point is a button: a click or Enter opens
// its cell.

import { t } from "./i18n.js";
import { humanBytes } from "./common.js";
import { doneCells } from "./grid-tools.js";

const NS = "http://www.w3.org/2000/svg";
const W = 800;
const H = 280;
const PAD = { left: 56, right: 16, top: 14, bottom: 40 };
// Distinguishable in light and dark schemes and for common colour blindness (Okabe-Ito).
const COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#b0a000", "#999999"];

function node(name, attrs = {}, text = null) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

export function widthColour(index) {
  return COLOURS[index % COLOURS.length];
}

/** Draw cells on svg; legend is a <ul>; onOpen(cell) when a point is chosen. */
export function drawChart(svg, legend, cells, widths, onOpen) {
  svg.replaceChildren();
  legend.replaceChildren();
  const done = doneCells(cells);
  const scored = done.some((c) => c.out.score != null);
  const yOf = (c) => (scored ? c.out.score : (c.quality ?? 0) / 100);
  const points = done.filter((c) => yOf(c) != null);
  if (!points.length) return;
  const logs = points.map((c) => Math.log(Math.max(1, c.out.bytes)));
  let [x0, x1] = [Math.min(...logs), Math.max(...logs)];
  if (x1 - x0 < 1e-6) { x0 -= 0.5; x1 += 0.5; }
  const ys = points.map(yOf);
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-6) { y0 -= 0.01; y1 += 0.01; }
  const pad = (y1 - y0) * 0.06;
  y0 -= pad; y1 += pad;
  const sx = (b) => PAD.left + ((Math.log(Math.max(1, b)) - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (v) => H - PAD.bottom - ((v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);

  // Axes with a few ticks.
  svg.append(node("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: "axis" }));
  svg.append(node("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: "axis" }));
  for (let i = 0; i <= 4; i++) {
    const b = Math.exp(x0 + ((x1 - x0) * i) / 4);
    const x = sx(b);
    svg.append(node("line", { x1: x, y1: H - PAD.bottom, x2: x, y2: H - PAD.bottom + 5, class: "axis" }));
    const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
    svg.append(node("text", { x, y: H - PAD.bottom + 18, "text-anchor": anchor, class: "tick" }, humanBytes(Math.round(b))));
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = sy(v);
    svg.append(node("line", { x1: PAD.left - 5, y1: y, x2: W - PAD.right, y2: y, class: "grid-line" }));
    svg.append(node("text", { x: PAD.left - 8, y: y + 4, "text-anchor": "end", class: "tick" }, scored ? v.toFixed(3) : String(Math.round(v * 100))));
  }
  svg.append(node("text", { x: (W + PAD.left) / 2, y: H - 4, "text-anchor": "middle", class: "axis-label" }, t("chart.x")));
  svg.append(node("text", { x: 14, y: (H - PAD.bottom + PAD.top) / 2, "text-anchor": "middle", class: "axis-label",
    transform: `rotate(-90 14 ${(H - PAD.bottom + PAD.top) / 2})` }, scored ? t("chart.y_score") : t("chart.y_quality")));

  widths.forEach((width, i) => {
    const colour = widthColour(i);
    const line = points.filter((c) => c.width === width).sort((a, b) => a.out.bytes - b.out.bytes);
    if (!line.length) return;
    svg.append(node("polyline", {
      points: line.map((c) => `${sx(c.out.bytes).toFixed(1)},${sy(yOf(c)).toFixed(1)}`).join(" "),
      fill: "none", stroke: colour, "stroke-width": 2, class: "series",
    }));
    for (const c of line) {
      const dot = node("circle", {
        cx: sx(c.out.bytes).toFixed(1), cy: sy(yOf(c)).toFixed(1), r: 6, fill: colour, class: "point", tabindex: 0,
        role: "button", "data-testid": "chart-point", "data-key": c.key,
      });
      const label = t("chart.point", { w: c.out.width, q: c.quality ?? "–", bytes: c.out.bytes, score: c.out.score != null ? c.out.score.toFixed(4) : "–" });
      dot.setAttribute("aria-label", label);
      dot.append(node("title", {}, label));
      dot.addEventListener("click", () => onOpen(c));
      dot.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onOpen(c); } });
      svg.append(dot);
    }
    const li = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    li.append(swatch, document.createTextNode(t("batch.w", { w: width })));
    legend.append(li);
  });
}
