// The batch page: up to 6 widths x 10 qualities in one format, sent as ONE request to
// POST /api/batch?response=json (never one upload per cell), shown as a width x quality table.
// "Download all" asks the same endpoint for its ZIP.

import { t, onLangChange } from "./i18n.js";
import { FORMATS, defaultOptions, fillFormatSelect, formatInfo, renderOptionPanels } from "./formats.js";
import {
  ErrorView, ProgressView, appendOptions, bindDropzone, filenameFromDisposition, isAbort, loadSettings,
  post, probeImage, reductionText, saveFile, saveSettings, setupPage, sizeText, stemOf,
} from "./common.js";

const SETTINGS_KEY = "imageconv.batch.v1";
const LISTS = {
  widths: { max: 6, min: 1, lo: 1, hi: 16383, nameKey: "batch.width_n", testid: "batch-width-input" },
  qualities: { max: 10, min: 1, lo: 1, hi: 100, nameKey: "batch.quality_n", testid: "batch-quality-input" },
};
const DEFAULTS = { widths: [320, 800, 1200], qualities: [50, 75, 90], format: "webp", options: defaultOptions() };

const $ = (id) => document.getElementById(id);
const el = {
  form: $("controls"), file: $("file"), dropzone: $("dropzone"), format: $("format"),
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
  panels.write(s.options);
  panels.show(el.format.value);
  renderCounts();
}

function store() {
  saveSettings(SETTINGS_KEY, {
    widths: state.values.widths, qualities: state.values.qualities, format: el.format.value, options: panels.readAll(),
  });
}

function changed() {
  panels.show(el.format.value);
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
    state.result = { ...res.body, lists: req.lists, stem: stemOf(state.file.name) };
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
    const name = filenameFromDisposition(res.header("Content-Disposition")) || `${stemOf(state.file.name)}_batch.zip`;
    saveFile(res.body, name);
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
      td.innerHTML = '<div class="thumb skeleton"></div><div class="skeleton line"></div><div class="skeleton line short"></div>';
      tr.append(td);
    }
    return tr;
  });
  el.grid.tBodies[0].replaceChildren(...rows);
}

/**
 * Outputs are matched to cells by quality, then by width order: a width larger than the original
 * comes back at the original's size, so its output width need not equal the one asked for.
 */
function cellOutputs(outputs, lists) {
  const byQuality = new Map(lists.qualities.map((q) => [q, []]));
  for (const o of outputs) (byQuality.get(Number(o.quality)) || []).push(o);
  for (const list of byQuality.values()) list.sort((a, b) => a.width - b.width);
  return lists.widths.map((_, i) => lists.qualities.map((q) => byQuality.get(q)[i] || null));
}

function renderGrid() {
  const r = state.result;
  if (!r) return;
  el.grid.removeAttribute("aria-busy");
  const original = r.original || {};
  const originalBytes = original.bytes || (state.file && state.file.size) || 0;
  el.caption.textContent = t("batch.grid_caption", { w: original.width ?? "?", h: original.height ?? "?", bytes: originalBytes });
  renderHead(r.lists);
  const cells = cellOutputs(r.outputs || [], r.lists);
  const rows = r.lists.widths.map((w, i) => {
    const tr = document.createElement("tr");
    tr.append(rowHeader(w));
    for (const out of cells[i]) tr.append(out ? renderCell(out, originalBytes) : document.createElement("td"));
    return tr;
  });
  el.grid.tBodies[0].replaceChildren(...rows);
  el.gridEmpty.hidden = true;
  el.gridScroll.hidden = false;
}

function renderCell(out, originalBytes) {
  const td = document.createElement("td");
  td.setAttribute("data-testid", "batch-cell");
  const fig = document.createElement("figure");
  const img = document.createElement("img");
  img.className = "thumb";
  img.src = out.data_url;
  img.alt = t("batch.thumb_alt", { w: out.width, h: out.height, q: out.quality });
  img.decoding = "async";
  const cap = document.createElement("figcaption");
  const dims = document.createElement("span");
  dims.className = "dims";
  dims.textContent = `${out.width} × ${out.height} · ${formatInfo(out.format).label}`;
  const bytes = document.createElement("span");
  bytes.className = "bytes";
  bytes.setAttribute("data-testid", "batch-cell-size");
  bytes.textContent = sizeText(out.bytes);
  const red = reductionText(originalBytes, out.bytes);
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.dataset.kind = red.kind;
  badge.textContent = red.text;
  cap.append(dims, bytes, badge);
  fig.append(img, cap);
  const a = document.createElement("a");
  a.className = "button small";
  a.href = out.data_url;
  a.download = out.name || `${state.result.stem}_${out.width}x${out.height}_q${out.quality}.${formatInfo(out.format).ext}`;
  a.textContent = t("batch.download_one");
  a.setAttribute("aria-label", t("batch.download_one_label", { name: a.download }));
  a.setAttribute("data-testid", "batch-cell-download");
  td.append(fig, a);
  return td;
}

// ---------------------------------------------------------------- events

function bind() {
  bindDropzone(el.dropzone, el.file, loadFile);
  el.form.addEventListener("submit", (e) => { e.preventDefault(); runBatch(); });
  el.downloadAll.addEventListener("click", downloadAll);
  $("add-width").addEventListener("click", () => addValue("widths"));
  $("add-quality").addEventListener("click", () => addValue("qualities"));
  el.format.addEventListener("change", changed);
  onLangChange(() => {
    for (const name of Object.keys(LISTS)) renderList(name);
    renderCounts();
    if (state.file) {
      el.originalSize.textContent = sizeText(state.file.size);
      if (state.original) el.originalDims.textContent = t("file.dimensions", { w: state.original.width, h: state.original.height });
    }
    if (state.result && !state.controller) renderGrid();
  });
}
