// The cell viewer: the same crop of every quality at one width side by side ("strip"), of every
// cell of the grid ("all"), or an A/B
// of the current cell against any other cell or the original. All panes share one view (centre
// and zoom), so a drag or a zoom in one moves them all. Arrow keys step through qualities
// (left/right) and widths (up/down). Positions are set from JS (element.style), never inline.

import { t } from "./i18n.js";
import { bindApiDownload, humanBytes } from "./common.js";
import { setApiImage } from "./apikey.js";
import { GATEWAY_MAX_BYTES } from "./jobs.js";

const ZOOM_STEP = 1.25;

export class Viewer {
  /**
   * ctx: {cell(width, quality), widths(), qualities(), original(), isChosen(cell), toggleChosen(cell)}
   * returning cells as {key, width, quality, out}; original() is {url, width, height} or null.
   * onError(err): a download that failed (with an API key, files are fetched by the page).
   */
  constructor(ctx, onError = () => {}) {
    this.ctx = ctx;
    const $ = (id) => document.getElementById(id);
    this.dialog = $("viewer");
    this.title = $("viewer-title");
    this.panes = $("viewer-panes");
    this.bSelect = $("viewer-b");
    this.choose = $("viewer-choose");
    this.download = $("viewer-download");
    this.mode = "strip";
    this.view = { cx: 0.5, cy: 0.5, zoom: null }; // zoom null: fit the whole image
    this.current = null;
    this.bind($);
    bindApiDownload(this.download, onError);
  }

  open(cell) {
    this.current = cell;
    if (this.bSelect.value === "" || this.bSelect.value === cell.key) this.bSelect.value = "original";
    this.view = { cx: 0.5, cy: 0.5, zoom: null };
    if (!this.dialog.open) this.dialog.showModal();
    this.render();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Move to the neighbouring quality (dq) or width (dw) that has an output. */
  step(dw, dq) {
    if (!this.current) return;
    const widths = this.ctx.widths();
    const qualities = this.ctx.qualities();
    let wi = widths.indexOf(this.current.width);
    let qi = qualities.indexOf(this.current.quality);
    for (;;) {
      wi += dw;
      qi += dq;
      if (wi < 0 || wi >= widths.length || qi < 0 || qi >= qualities.length) return;
      const next = this.ctx.cell(widths[wi], qualities[qi]);
      if (next && next.out && next.out.state === "done") {
        const { cx, cy, zoom } = this.view;
        this.current = next;
        this.view = { cx, cy, zoom }; // the same crop at the next cell
        this.render();
        return;
      }
    }
  }

  paneSources() {
    const c = this.current;
    if (this.mode === "all") {
      // Every cell of the grid in its place: rows are widths, columns qualities.
      return this.ctx.widths().flatMap((w) => this.ctx.qualities().map((q) => this.ctx.cell(w, q)))
        .filter((x) => x && x.out && x.out.state === "done").map((x) => ({ cell: x }));
    }
    if (this.mode === "strip") {
      return this.ctx.qualities().map((q) => this.ctx.cell(c.width, q)).filter((x) => x && x.out && x.out.state === "done")
        .map((x) => ({ cell: x }));
    }
    const b = this.bSelect.value;
    const other = b === "original" ? { original: this.ctx.original() } : { cell: this.ctx.cellByKey(b) };
    return [{ cell: c, tag: "A" }, { ...other, tag: "B" }];
  }

  render() {
    const c = this.current;
    if (!c) return;
    this.dialog.dataset.width = String(c.width);
    this.dialog.dataset.quality = String(c.quality);
    this.dialog.dataset.mode = this.mode;
    this.title.textContent = t("viewer.title", {
      name: c.out.name, bytes: humanBytes(c.out.bytes), score: c.out.score != null ? c.out.score.toFixed(4) : "–",
    });
    this.fillB();
    this.choose.setAttribute("aria-pressed", String(this.ctx.isChosen(c)));
    this.choose.textContent = this.ctx.isChosen(c) ? t("viewer.chosen") : t("viewer.choose");
    this.download.href = c.out.url;
    this.download.download = c.out.name;
    const sources = this.paneSources();
    this.panes.dataset.count = String(sources.length);
    const n = sources.length;
    const cols = this.mode === "all" ? this.ctx.qualities().length : n <= 2 ? n : n <= 6 ? 3 : 5;
    this.panes.style.setProperty("--cols", String(Math.max(1, cols)));
    this.panes.replaceChildren(...sources.map((src) => this.pane(src)));
    this.layout(); // now, not in a frame: the panes are in the document and measurable
  }

  fillB() {
    const keep = this.bSelect.value || "original";
    const options = [new Option(t("viewer.original"), "original")];
    for (const w of this.ctx.widths()) {
      for (const q of this.ctx.qualities()) {
        const x = this.ctx.cell(w, q);
        if (x && x.out && x.out.state === "done" && x.key !== this.current.key) {
          options.push(new Option(t("viewer.cell_option", { w, q: q ?? "–", bytes: humanBytes(x.out.bytes) }), x.key));
        }
      }
    }
    this.bSelect.replaceChildren(...options);
    this.bSelect.value = options.some((o) => o.value === keep) ? keep : "original";
  }

  pane({ cell, original, tag }) {
    const fig = document.createElement("figure");
    fig.className = "pane";
    fig.setAttribute("data-testid", "viewer-pane");
    const cap = document.createElement("figcaption");
    const img = document.createElement("img");
    img.draggable = false;
    img.setAttribute("data-testid", "viewer-image");
    img.decoding = "async";
    if (cell) {
      fig.dataset.key = cell.key;
      if (cell.key === this.current.key) fig.classList.add("current");
      const label = t("viewer.pane", { q: cell.quality ?? "–", w: cell.out.width, bytes: humanBytes(cell.out.bytes),
        score: cell.out.score != null ? cell.out.score.toFixed(4) : "–" });
      cap.textContent = tag ? `${tag} · ${label}` : label;
      img.alt = label;
      if (cell.out.bytes > GATEWAY_MAX_BYTES) {
        // Over the gateway's 10 MB: not fetched through it; the cell's download link is direct.
        const note = document.createElement("p");
        note.className = "note";
        note.textContent = t("viewer.too_large", { bytes: humanBytes(cell.out.bytes) });
        fig.append(note, cap);
        return fig;
      }
      setApiImage(img, cell.out.url); // with an API key: fetched with it, shown as a blob: URL
      img._size = { w: cell.out.width, h: cell.out.height };
    } else if (original) {
      cap.textContent = `${tag} · ${t("viewer.original")}`;
      img.alt = t("viewer.original");
      img.src = original.url;
      img._size = { w: original.width, h: original.height };
    } else {
      cap.textContent = `${tag} · –`;
      fig.append(cap);
      return fig;
    }
    fig.append(img, cap);
    return fig;
  }

  /** Place every pane's image for the shared view: same centre, same displayed size. */
  layout() {
    const c = this.current;
    if (!c) return;
    const first = this.panes.querySelector(".pane");
    if (!first) return;
    const box = first.getBoundingClientRect();
    const refW = c.out.width;
    const refH = c.out.height;
    if (this.view.zoom == null) this.view.fit = Math.min(box.width / refW, box.height / refH);
    const zoom = this.view.zoom ?? this.view.fit;
    const dw = refW * zoom;
    const dh = refH * zoom;
    for (const img of this.panes.querySelectorAll("img")) {
      const pane = img.parentElement.getBoundingClientRect();
      img.style.width = `${dw}px`;
      img.style.height = `${dh}px`;
      img.style.left = `${pane.width / 2 - this.view.cx * dw}px`;
      img.style.top = `${pane.height / 2 - this.view.cy * dh}px`;
      img.classList.toggle("pixelated", zoom * refW / (img._size?.w || refW) > 1.5);
    }
    this.panes.dataset.zoom = zoom.toFixed(4);
    this.panes.dataset.cx = this.view.cx.toFixed(4);
    this.panes.dataset.cy = this.view.cy.toFixed(4);
  }

  zoomBy(factor) {
    const zoom = (this.view.zoom ?? this.view.fit ?? 1) * factor;
    this.view.zoom = Math.min(Math.max(zoom, 0.02), 32);
    this.layout();
  }

  bind($) {
    $("viewer-close").addEventListener("click", () => this.close());
    this.dialog.addEventListener("click", (e) => { if (e.target === this.dialog) this.close(); });
    $("viewer-zoom-in").addEventListener("click", () => this.zoomBy(ZOOM_STEP));
    $("viewer-zoom-out").addEventListener("click", () => this.zoomBy(1 / ZOOM_STEP));
    $("viewer-fit").addEventListener("click", () => { this.view = { cx: 0.5, cy: 0.5, zoom: null }; this.layout(); });
    $("viewer-actual").addEventListener("click", () => { this.view.zoom = 1; this.layout(); });
    this.choose.addEventListener("click", () => { if (this.current) { this.ctx.toggleChosen(this.current); this.render(); } });
    this.bSelect.addEventListener("change", () => this.render());
    for (const radio of document.querySelectorAll('input[name="viewer-mode"]')) {
      radio.addEventListener("change", () => { this.mode = radio.value; this.render(); });
    }
    window.addEventListener("resize", () => { if (this.dialog.open) this.layout(); });
    this.dialog.addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLSelectElement) return;
      const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      if (moves[e.key]) { e.preventDefault(); this.step(...moves[e.key]); }
      else if (e.key === "+" || e.key === "=") { e.preventDefault(); this.zoomBy(ZOOM_STEP); }
      else if (e.key === "-") { e.preventDefault(); this.zoomBy(1 / ZOOM_STEP); }
      else if (e.key === "0") { e.preventDefault(); this.view = { cx: 0.5, cy: 0.5, zoom: null }; this.layout(); }
    });
    // Pan: drag any pane, all follow.
    let drag = null;
    this.panes.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      e.preventDefault();
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY };
      try { this.panes.setPointerCapture(e.pointerId); } catch (_) { /* synthetic pointer */ }
    });
    this.panes.addEventListener("pointermove", (e) => {
      if (!drag || drag.id !== e.pointerId || !this.current) return;
      if (e.pointerType === "mouse" && !(e.buttons & 1)) { drag = null; return; }
      const zoom = this.view.zoom ?? this.view.fit ?? 1;
      this.view.zoom = zoom;
      this.view.cx = Math.min(Math.max(this.view.cx - (e.clientX - drag.x) / (this.current.out.width * zoom), 0), 1);
      this.view.cy = Math.min(Math.max(this.view.cy - (e.clientY - drag.y) / (this.current.out.height * zoom), 0), 1);
      drag.x = e.clientX;
      drag.y = e.clientY;
      this.layout();
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) this.panes.addEventListener(type, () => { drag = null; });
    this.panes.addEventListener("wheel", (e) => { e.preventDefault(); this.zoomBy(e.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP); }, { passive: false });
  }
}
