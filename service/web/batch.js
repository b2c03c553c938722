// The batch page: up to 6 widths x 10 qualities in one format, sent as ONE request to
// POST /api/batch?response=json (never one upload per cell), shown as a width x quality table.
// "Download all" asks the same endpoint for its ZIP.

import { t, onLangChange } from "./i18n.js";
import { FORMATS, defaultOptions, fillFormatSelect, formatInfo, qualityApplies, renderOptionPanels } from "./formats.js";
import {
  ErrorView, ProgressView, appendOptions, bindDropzone, filenameFromDisposition, isAbort, loadSettings,
  post, probeImage, reductionText, saveFile, saveSettings, setupPage, sizeText, stemOf,
} from "./common.js";

const SETTINGS_KEY = "imageconv.batch.v1";
const LISTS = {
  widths: { max: 6, min: 1, lo: 1, hi: 16383, nameKey: "batch.width_n", testid: "batch-width-input" },
  qualities: { max: 10, min: 1, lo: 1, hi: 100, nameKey: "batch.quality_n", testid: "batch-quality-input" },
};
const DEFAULTS = {
  widths: [320, 800, 1200], qualities: [50, 75, 90], format: "webp", options: defaultOptions(), enlarge: false, keepMetadata: false,
};

const $ = (id) => document.getElementById(id);
const el = {
  form: $("controls"), file: $("file"), dropzone: $("dropzone"), format: $("format"),
  enlarge: $("enlarge"), keepMetadata: $("keep_metadata"), qualitiesHint: $("qualities-hint"),
  viewer: $("viewer"), viewerTitle: $("viewer-title"), viewerImage: $("viewer-image"),
  run: $("run"), downloadAll: $("download-all"),
  originalFacts: $("original-facts"), originalName: $("original-name"), originalDims: $("original-dims"), originalSize: $("original-size"),
  gridEmpty: $("grid-empty"), gridScroll: $("grid-scroll"), grid: $("grid"), caption: $("grid-caption"),
};

const state = { file: null, original: null, values: { widths: [], qualities: [] }, result: null, controller: null };

setupPage();
fillFormatSelect(el.format);
const errors = new ErrorView($("error"));
const progress = new ProgressView($("progress"));
const panels = renderOptionPanels($("format-options"), "bopt", () => changed());

restore();
bind();

// ---------------------------------------------------------------- settings

function restore() {
  const s = loadSettings(SETTINGS_KEY, DEFAULTS);
  for (const name of Object.keys(LISTS)) {
    const list = Array.isArray(s[name]) && s[name].length ? s[name] : DEFAULTS[name];
    state.values[name] = list.slice(0, LISTS[name].max).map(String);
    renderList(name);
  }
  el.format.value = FORMATS.some((f) => f.id === s.format) ? s.format : DEFAULTS.format;
  el.enlarge.checked = Boolean(s.enlarge);
  el.keepMetadata.checked = Boolean(s.keepMetadata);
  panels.write(s.options);
  refreshControls();
  renderCounts();
}

function store() {
  saveSettings(SETTINGS_KEY, {
    widths: state.values.widths, qualities: state.values.qualities, format: el.format.value, options: panels.readAll(),
    enlarge: el.enlarge.checked, keepMetadata: el.keepMetadata.checked,
  });
}

/** Show the chosen format's options, and say what the qualities mean for it. */
function refreshControls() {
  const fmt = el.format.value;
  panels.show(fmt);
  const values = panels.read(fmt);
  // Every output is made at each quality; for PNG a quality switches palette quantisation on.
  const key = fmt === "png" ? "batch.quality_png" : qualityApplies(fmt, values) ? null : "batch.quality_na";
  el.qualitiesHint.hidden = !key;
  el.qualitiesHint.textContent = key ? t(key) : "";
}

function changed() {
  refreshControls();
  store();
  renderCounts();
}

// ---------------------------------------------------------------- width / quality lists

function renderList(name, focusIndex = null) {
  const spec = LISTS[name];
  const ol = $(`${name}-list`);
  ol.replaceChildren();
  state.values[name].forEach((value, i) => {
    const li = document.createElement("li");
    li.className = "chip";
    const id = `${name}-${i}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.className = "visually-hidden";
    label.textContent = t(spec.nameKey, { n: i + 1 });
    const input = document.createElement("input");
    input.type = "number";
    input.id = id;
    input.min = spec.lo;
    input.max = spec.hi;
    input.step = 1;
    input.inputMode = "numeric";
    input.value = value;
    input.setAttribute("data-testid", spec.testid);
    input.setAttribute("aria-describedby", `${name}-error`);
    input.addEventListener("input", () => {
      state.values[name][i] = input.value.trim();
      input.removeAttribute("aria-invalid");
      store();
      renderCounts();
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "icon";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("batch.remove", { value: value || t(spec.nameKey, { n: i + 1 }) }));
    remove.setAttribute("data-testid", `${spec.testid.replace("-input", "")}-remove`);
    remove.disabled = state.values[name].length <= spec.min;
    remove.addEventListener("click", () => {
      state.values[name].splice(i, 1);
      renderList(name, Math.min(i, state.values[name].length - 1));
      store();
      renderCounts();
    });
    li.append(label, input, remove);
    ol.append(li);
  });
  const add = $(name === "widths" ? "add-width" : "add-quality");
  add.disabled = state.values[name].length >= spec.max;
  $(`${name}-max`).textContent = `(${state.values[name].length}/${spec.max})`;
  if (focusIndex !== null && focusIndex >= 0) $(`${name}-${focusIndex}`)?.focus();
}

function nextValue(name) {
  const nums = state.values[name].map(Number).filter((n) => Number.isInteger(n) && n > 0);
  if (name === "widths") {
    const top = nums.length ? Math.max(...nums) : 400;
    return String(Math.min(LISTS.widths.hi, Math.round((top * 1.5) / 10) * 10));
  }
  for (const q of [80, 60, 40, 85, 70, 95, 30, 65, 55, 45, 35, 25, 20, 10, 100]) if (!nums.includes(q)) return String(q);
  return "50";
}

function addValue(name) {
  if (state.values[name].length >= LISTS[name].max) return;
  state.values[name].push(nextValue(name));
  renderList(name, state.values[name].length - 1);
  store();
  renderCounts();
}

/** The list as sorted unique integers, or {error, index} for the first bad entry. */
function parsedList(name) {
  const spec = LISTS[name];
  const out = [];
  for (const [i, raw] of state.values[name].entries()) {
    const n = Number(raw);
    if (raw === "" || !Number.isInteger(n) || n < spec.lo || n > spec.hi) return { error: true, index: i };
    if (!out.includes(n)) out.push(n);
  }
  return { values: out.sort((a, b) => a - b) };
}

function renderCounts() {
  const w = parsedList("widths");
  const q = parsedList("qualities");
  const n = w.values && q.values ? w.values.length * q.values.length : 0;
  el.run.textContent = n ? t("batch.run", { n }) : t("batch.run", { n: "–" });
  el.downloadAll.disabled = !state.file || !n;
}

// ---------------------------------------------------------------- file

async function loadFile(file) {
  state.controller?.abort();
  errors.clear();
  state.file = file;
  el.originalFacts.hidden = false;
  el.originalName.textContent = file.name;
  el.originalSize.textContent = sizeText(file.size);
  el.originalDims.textContent = t("file.reading");
  const probed = await probeImage(file);
  if (state.file !== file) return;
  if (state.original) URL.revokeObjectURL(state.original.url);
  state.original = probed;
  el.originalDims.textContent = probed ? t("file.dimensions", { w: probed.width, h: probed.height }) : "";
  renderCounts();
}

// ---------------------------------------------------------------- requests

/** The FormData for /api/batch, or null after showing what is wrong. */
function buildRequest() {
  errors.clear();
  if (!state.file) {
    errors.show({ i18nKey: "error.no_file" }, "image");
    el.file.focus();
    return null;
  }
  const lists = {};
  for (const name of Object.keys(LISTS)) {
    const parsed = parsedList(name);
    if (parsed.error) {
      const spec = LISTS[name];
      errors.show({ i18nKey: "error.number_range", params: { min: spec.lo, max: spec.hi } }, name);
      const input = $(`${name}-${parsed.index}`);
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return null;
    }
    lists[name] = parsed.values;
  }
  const fd = new FormData();
  fd.append("image", state.file, state.file.name);
  appendOptions(fd, {
    widths: lists.widths.join(","),
    qualities: lists.qualities.join(","),
    format: el.format.value,
    enlarge: el.enlarge.checked || null,
    keep_metadata: el.keepMetadata.checked || null,
    ...panels.visible(el.format.value),
  });
  return { fd, lists };
}

async function runBatch() {
  const req = buildRequest();
  if (!req) return;
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  const count = req.lists.widths.length * req.lists.qualities.length;
  renderPlaceholder(req.lists);
  progress.start(count);
  el.run.setAttribute("aria-busy", "true");
  try {
    const res = await post("/api/batch?response=json", req.fd, {
      signal: controller.signal, responseType: "json", onProgress: (e) => progress.update(e),
    });
    if (state.controller !== controller) return;
    state.result = { ...res.body, lists: req.lists, enlarge: el.enlarge.checked, stem: stemOf(state.file.name) };
    renderGrid();
  } catch (err) {
    if (isAbort(err) || state.controller !== controller) return;
    clearGrid();
    errors.show(err);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      progress.stop();
      el.run.removeAttribute("aria-busy");
    }
  }
}

async function downloadAll() {
  const req = buildRequest();
  if (!req) return;
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  progress.start(req.lists.widths.length * req.lists.qualities.length);
  el.downloadAll.setAttribute("aria-busy", "true");
  try {
    const res = await post("/api/batch", req.fd, { signal: controller.signal, onProgress: (e) => progress.update(e) });
    // Our own stem keeps non-ASCII names (the server's is ASCII only); the entries inside are the server's.
    const name = state.file ? `${stemOf(state.file.name)}_batch.zip` : filenameFromDisposition(res.header("Content-Disposition"));
    saveFile(res.body, name || "batch.zip");
  } catch (err) {
    if (!isAbort(err)) errors.show(err);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      progress.stop();
      el.downloadAll.removeAttribute("aria-busy");
    }
  }
}

// ---------------------------------------------------------------- grid

function clearGrid() {
  el.gridScroll.hidden = true;
  el.gridEmpty.hidden = false;
  el.grid.tHead.replaceChildren();
  el.grid.tBodies[0].replaceChildren();
}

function renderHead(lists) {
  const tr = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = t("batch.corner");
  tr.append(corner);
  for (const q of lists.qualities) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t("batch.q", { q });
    tr.append(th);
  }
  el.grid.tHead.replaceChildren(tr);
}

function rowHeader(w) {
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = t("batch.w", { w });
  return th;
}

/** While the request runs: the table's shape, with pulsing empty cells. */
function renderPlaceholder(lists) {
  el.gridEmpty.hidden = true;
  el.gridScroll.hidden = false;
  el.grid.setAttribute("aria-busy", "true");
  el.caption.textContent = "";
  renderHead(lists);
  const rows = lists.widths.map((w) => {
    const tr = document.createElement("tr");
    tr.append(rowHeader(w));
    for (let j = 0; j < lists.qualities.length; j++) {
      const td = document.createElement("td");
      td.className = "placeholder";
      td.innerHTML = '<div class="skeleton block"></div><div class="skeleton line"></div><div class="skeleton line short"></div>';
      td.setAttribute("aria-label", t("batch.pending"));
      tr.append(td);
    }
    return tr;
  });
  el.grid.tBodies[0].replaceChildren(...rows);
}

/**
 * The output for each cell (width row x quality column), as {out, shared}. The service makes each
 * distinct output once: without enlarging, every width at or past the original's gives the
 * original's size, so those cells share one output (shared = true) and the others have their own,
 * found by the width they asked for (requested_width) or, failing that, by the width expected.
 */
function cellOutputs(outputs, lists, original, enlarge) {
  const own = new Map(outputs.filter((o) => o.requested_width != null).map((o) => [`${o.requested_width}/${o.quality}`, o]));
  return lists.widths.map((w) => lists.qualities.map((q) => {
    const mine = own.get(`${w}/${q}`);
    if (mine) return { out: mine, shared: false };
    const expected = enlarge || !original.width ? w : Math.min(w, original.width);
    const twin = outputs.find((o) => Number(o.quality) === q && o.width === expected);
    return twin ? { out: twin, shared: twin.requested_width != null && twin.requested_width !== w } : null;
  }));
}

function renderGrid() {
  const r = state.result;
  if (!r) return;
  el.grid.removeAttribute("aria-busy");
  const original = r.original || {};
  const originalBytes = original.bytes || (state.file && state.file.size) || 0;
  el.caption.textContent = t("batch.grid_caption", { w: original.width ?? "?", h: original.height ?? "?", bytes: originalBytes });
  // The browser cannot measure every format (TIFF, HEIC): the service's reading is the real one anyway.
  if (original.width) el.originalDims.textContent = t("file.dimensions", { w: original.width, h: original.height });
  renderHead(r.lists);
  const cells = cellOutputs(r.outputs || [], r.lists, original, r.enlarge);
  const rows = r.lists.widths.map((w, i) => {
    const tr = document.createElement("tr");
    tr.append(rowHeader(w));
    for (const cell of cells[i]) tr.append(cell ? renderCell(cell.out, originalBytes, cell.shared, original) : missingCell());
    return tr;
  });
  el.grid.tBodies[0].replaceChildren(...rows);
  el.gridEmpty.hidden = true;
  el.gridScroll.hidden = false;
}

function cellName(out) {
  const q = out.quality != null ? `_q${out.quality}` : "";
  return `${state.result.stem}_${out.width}x${out.height}${q}.${formatInfo(out.format).ext}`;
}

function renderCell(out, originalBytes, shared, original) {
  const td = document.createElement("td");
  td.setAttribute("data-testid", "batch-cell");
  const name = cellName(out);
  const fig = document.createElement("figure");
  // The thumbnail opens the output at full size: differences between qualities show there.
  const view = document.createElement("button");
  view.type = "button";
  view.className = "thumb-button";
  view.setAttribute("aria-label", t("batch.view_label", { name }));
  const img = document.createElement("img");
  img.className = "thumb";
  img.src = out.data_url;
  img.alt = t("batch.thumb_alt", { w: out.width, h: out.height, q: out.quality ?? "–" });
  img.decoding = "async";
  view.append(img);
  view.addEventListener("click", () => openViewer(out, name));
  const cap = document.createElement("figcaption");
  const dims = document.createElement("span");
  dims.className = "dims";
  dims.setAttribute("data-testid", "batch-cell-dims");
  dims.textContent = `${out.width} × ${out.height} · ${formatInfo(out.format).label}`;
  const bytes = document.createElement("span");
  bytes.className = "bytes";
  bytes.setAttribute("data-testid", "batch-cell-size");
  bytes.textContent = sizeText(out.bytes);
  const red = reductionText(originalBytes, out.bytes, { short: true });
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.dataset.kind = red.kind;
  badge.textContent = red.text;
  cap.append(dims, bytes, badge);
  if (shared) {
    const note = document.createElement("span");
    note.className = "note";
    note.textContent = t("batch.shared", { w: original.width });
    cap.append(note);
  }
  fig.append(view, cap);
  const a = document.createElement("a");
  a.className = "button small";
  a.href = out.data_url;
  a.download = name;
  a.textContent = t("batch.download_one");
  a.setAttribute("aria-label", t("batch.download_one_label", { name }));
  a.setAttribute("data-testid", "batch-cell-download");
  td.append(fig, a);
  return td;
}

function missingCell() {
  const td = document.createElement("td");
  td.className = "muted";
  td.textContent = t("batch.missing");
  return td;
}

function openViewer(out, name) {
  el.viewerTitle.textContent = `${name} · ${sizeText(out.bytes)}`;
  el.viewerImage.src = out.data_url;
  el.viewerImage.alt = t("batch.thumb_alt", { w: out.width, h: out.height, q: out.quality ?? "–" });
  el.viewer.showModal();
}

// ---------------------------------------------------------------- events

function bind() {
  bindDropzone(el.dropzone, el.file, loadFile);
  el.form.addEventListener("submit", (e) => { e.preventDefault(); runBatch(); });
  el.downloadAll.addEventListener("click", downloadAll);
  $("add-width").addEventListener("click", () => addValue("widths"));
  $("add-quality").addEventListener("click", () => addValue("qualities"));
  for (const input of [el.format, el.enlarge, el.keepMetadata]) input.addEventListener("change", changed);
  $("viewer-close").addEventListener("click", () => el.viewer.close());
  // A click on the backdrop (outside the dialog's box) closes it too; Escape does natively.
  el.viewer.addEventListener("click", (e) => { if (e.target === el.viewer) el.viewer.close(); });
  el.viewer.addEventListener("close", () => el.viewerImage.removeAttribute("src"));
  onLangChange(() => {
    for (const name of Object.keys(LISTS)) renderList(name);
    refreshControls();
    renderCounts();
    if (state.file) {
      el.originalSize.textContent = sizeText(state.file.size);
      if (state.original) el.originalDims.textContent = t("file.dimensions", { w: state.original.width, h: state.original.height });
    }
    if (state.result && !state.controller) renderGrid();
  });
}
