// The batch page: a grid of widths x qualities in one format (how many of each, and their ranges,
// as the service's options document says: ui_grid, limits), submitted as ONE upload to
// POST /api/jobs; the grid fills cell by cell as the long poll (GET /api/jobs/{id}?wait=N)
// reports outputs. Each cell shows its bytes (coloured by size) and quality score; the chart,
// "pick best", the viewer and the export turn the grid into a decision. No request the page
// makes carries more than one output, and none waits longer than the poll's wait.

import { t, onLangChange } from "./i18n.js";
import { defaultQuality, qualityApplies } from "./formats.js";
import { startPage } from "./page.js";
import { appendOptions, bindApiDownload, humanBytes, isAbort, probeImage, saveSettings, sizeText, stemOf } from "./common.js";
import { GATEWAY_MAX_BYTES, cancelJob, followJob, isFinished, submitJob } from "./jobs.js";
import { doneCells, pickBest, pictureSnippet, sizeRank } from "./grid-tools.js";
import { drawChart } from "./chart.js";
import { Viewer } from "./viewer.js";
import { releaseObjectUrls } from "./apikey.js";

const SETTINGS_KEY = "imageconv.batch.v2";

const $ = (id) => document.getElementById(id);
const el = {
  form: $("controls"), file: $("file"), format: $("format"),
  enlarge: $("enlarge"), keepMetadata: $("keep_metadata"), score: $("score"), qualitiesHint: $("qualities-hint"),
  run: $("run"), downloadAll: $("download-all"), originalThumb: $("original-thumb"),
  gridEmpty: $("grid-empty"), gridArea: $("grid-area"), grid: $("grid"), caption: $("grid-caption"),
  progress: $("progress"), progressBar: document.querySelector("#progress progress"), progressText: document.querySelector("#progress .progress-text"),
  pickMode: $("pick-mode"), pickValue: $("pick-value"), pick: $("pick"), pickSummary: $("pick-summary"),
  chart: $("chart"), chartLegend: $("chart-legend"), exportCode: $("export-code"), exportCopy: $("export-copy"),
  exportClear: $("export-clear"), exportCopied: $("export-copied"),
};

const state = {
  file: null, original: null, values: { widths: [], qualities: [] }, controller: null,
  run: null, // {lists, format, options, jobId, started, status, archiveUrl, stem}
  cells: new Map(), // "width/quality" -> {key, width, quality, out, retrying}
  chosen: new Set(), // cell keys chosen for the export
};

const page = await startPage({ panelPrefix: "bopt", onChange: () => changed() });
const { errors, panels } = page;
const optionSpec = page.spec;
const GRID = optionSpec.grid();
const WIDTHS = optionSpec.anyDomain("widths");
const QUALITIES = optionSpec.anyDomain("qualities");
// Each list: how many values it holds (a grid has at least one row and one column) and their range.
const LISTS = {
  widths: { least: 1, most: GRID.max_widths, lo: WIDTHS.minimum, hi: WIDTHS.maximum, nameKey: "batch.width_n", testid: "batch-width-input" },
  qualities: { least: 1, most: GRID.max_qualities, lo: QUALITIES.minimum, hi: QUALITIES.maximum, nameKey: "batch.quality_n", testid: "batch-quality-input" },
};
const DEFAULTS = { widths: GRID.widths, qualities: GRID.qualities, score: true };
// The quality score arrives with the speed work; until the service lists it, the page does not offer it.
const HAS_SCORE = optionSpec.has("score");
// The pick tool's thresholds mean what the service's search targets mean: bounded by their domains.
const PICK_DOMAINS = { score: optionSpec.anyDomain("min_score"), bytes: optionSpec.anyDomain("max_bytes") };
// Where the tool starts: a score most people cannot tell from the original, and 100 KiB.
const PICK_START = { score: 0.95, bytes: 100 * 1024 };
const PICK_STEP = { score: "0.001", bytes: "1024" };
const viewer = new Viewer({
  cell: (w, q) => state.cells.get(`${w}/${q}`),
  cellByKey: (key) => state.cells.get(key),
  widths: () => (state.run ? state.run.lists.widths : []),
  qualities: () => (state.run ? state.run.lists.qualities : []),
  original: () => state.original,
  isChosen: (cell) => state.chosen.has(cell.key),
  toggleChosen: (cell) => { if (state.chosen.has(cell.key)) state.chosen.delete(cell.key); else state.chosen.add(cell.key); renderGrid(); },
}, (err) => errors.show(err));

restore();
bind();
page.ready();

// ---------------------------------------------------------------- settings

function restore() {
  const s = page.restore(SETTINGS_KEY, DEFAULTS);
  for (const name of Object.keys(LISTS)) {
    // As on the single page, a value the service would refuse (a limit lowered since) is not restored.
    const stored = Array.isArray(s[name]) ? s[name].filter((v) => validValue(name, v)) : [];
    const list = stored.length ? stored : DEFAULTS[name];
    state.values[name] = list.slice(0, LISTS[name].most).map(String);
    renderList(name);
  }
  el.score.checked = HAS_SCORE && s.score !== false;
  el.score.disabled = !HAS_SCORE;
  el.score.closest(".field").hidden = !HAS_SCORE;
  $("score-hint").hidden = !HAS_SCORE;
  el.pickValue.value = String(PICK_START[el.pickMode.value]);
  setPickBounds();
  refreshControls();
  renderCounts();
}

function store() {
  saveSettings(SETTINGS_KEY, {
    ...page.stored(), widths: state.values.widths, qualities: state.values.qualities, score: el.score.checked,
  });
}

/** Show the chosen format's options, and say what the qualities mean for it. */
function refreshControls() {
  const fmt = el.format.value;
  panels.show(fmt);
  const values = panels.read(fmt);
  // Every output is made at each quality. The panel's values are sent as shown, so for PNG the
  // qualities matter only with the palette on (then each is a palette quantisation); lossless
  // outputs (PNG without palette, lossless WebP/AVIF, TIFF without JPEG) are alike in every column.
  const applies = qualityApplies(optionSpec, fmt, values);
  const key = !applies ? "batch.quality_na" : fmt === "png" ? "batch.quality_png" : null;
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
    remove.disabled = state.values[name].length <= spec.least;
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
  add.disabled = state.values[name].length >= spec.most;
  $(`${name}-max`).textContent = `(${state.values[name].length}/${spec.most})`;
  if (focusIndex !== null && focusIndex >= 0) $(`${name}-${focusIndex}`)?.focus();
}

function validValue(name, raw) {
  const n = Number(raw);
  return String(raw ?? "").trim() !== "" && Number.isInteger(n) && n >= LISTS[name].lo && n <= LISTS[name].hi;
}

/** The value a new width or quality starts with, inside its domain and not in the list yet. */
function nextValue(name) {
  const { lo, hi } = LISTS[name];
  const nums = [...new Set(state.values[name].filter((v) => validValue(name, v)).map(Number))].sort((a, b) => a - b);
  if (name === "widths") {
    // One and a half times the widest, rounded to ten pixels, within the service's limit.
    const top = nums.length ? nums[nums.length - 1] : GRID.widths[0];
    return String(Math.min(hi, Math.max(lo, Math.round((top * 1.5) / 10) * 10)));
  }
  if (!nums.length) return String(defaultQuality(optionSpec, el.format.value) ?? GRID.qualities[0]);
  // The middle of the widest gap between the qualities (or above the highest), on a step of five.
  const gaps = nums.map((q, i) => [q, i + 1 < nums.length ? nums[i + 1] : hi]);
  if (nums[0] > lo) gaps.push([lo, nums[0]]);
  gaps.sort((a, b) => (b[1] - b[0]) - (a[1] - a[0]));
  for (const [a, b] of gaps) {
    const mid = Math.round((a + b) / 10) * 5;
    for (const q of [mid, Math.round((a + b) / 2)]) if (q > a && q < b && !nums.includes(q)) return String(q);
  }
  for (let q = hi; q >= lo; q--) if (!nums.includes(q)) return String(q);
  return String(hi);
}

function addValue(name) {
  if (state.values[name].length >= LISTS[name].most) return;
  state.values[name].push(nextValue(name));
  renderList(name, state.values[name].length - 1);
  store();
  renderCounts();
}

/** The list as sorted unique integers, or {error, index} for the first bad entry. */
function parsedList(name) {
  const out = [];
  for (const [i, raw] of state.values[name].entries()) {
    if (!validValue(name, raw)) return { error: true, index: i };
    const n = Number(raw);
    if (!out.includes(n)) out.push(n);
  }
  return { values: out.sort((a, b) => a - b) };
}

function renderCounts() {
  const w = parsedList("widths");
  const q = parsedList("qualities");
  const n = w.values && q.values ? w.values.length * q.values.length : 0;
  el.run.textContent = n ? t("batch.run", { n }) : t("batch.run", { n: "–" });
}

// ---------------------------------------------------------------- file

async function loadFile(file) {
  state.controller?.abort();
  errors.clear();
  state.file = file;
  page.facts.reading(file);
  const probed = await probeImage(file);
  if (state.file !== file) return;
  if (state.original) URL.revokeObjectURL(state.original.url);
  state.original = probed;
  page.facts.show(probed);
  // The upload is shown at once, before any conversion (browsers cannot show TIFF or HEIC).
  el.originalThumb.hidden = !probed;
  if (probed) { el.originalThumb.src = probed.url; el.originalThumb.alt = t("compare.original_alt"); }
  renderCounts();
}

// ---------------------------------------------------------------- requests

/** The options of a job (everything but the lists), or null after showing what is wrong. */
function readRequest() {
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
  const most = optionSpec.limits.max_job_outputs; // a job holding more is refused by the service
  if (lists.widths.length * lists.qualities.length > most) {
    errors.show({ i18nKey: "batch.too_many", params: { max: most } }, "qualities");
    return null;
  }
  const format = el.format.value;
  const options = {
    format,
    enlarge: el.enlarge.checked || null,
    keep_metadata: el.keepMetadata.checked || null,
    score: (HAS_SCORE && el.score.checked) || null,
    ...panels.visible(format),
  };
  return { lists, format, options, file: state.file };
}

function jobForm(req, widths, qualities) {
  const fd = new FormData();
  fd.append("image", req.file, req.file.name);
  appendOptions(fd, { widths: widths.join(","), qualities: qualities.join(","), ...req.options });
  return fd;
}

async function runBatch() {
  const req = readRequest();
  if (!req) return;
  state.controller?.abort();
  // The grid being replaced: its job would go on using the service's workers for nobody.
  if (state.run?.jobId && state.run.status && !isFinished(state.run.status)) cancelJob(state.run.jobId);
  const controller = new AbortController();
  state.controller = controller;
  state.run = { ...req, jobId: null, started: performance.now(), status: null, archiveUrl: null, stem: stemOf(req.file.name) };
  state.cells = new Map();
  releaseObjectUrls(); // the files of the grid replaced (fetched with an API key)
  for (const w of req.lists.widths) for (const q of req.lists.qualities) state.cells.set(`${w}/${q}`, { key: `${w}/${q}`, width: w, quality: q, out: null });
  state.chosen.clear();
  el.pickSummary.textContent = "";
  setDownloadAll(null);
  renderGrid();
  // On a phone the results are below the form: bring them into view as they start to fill.
  if (window.matchMedia("(max-width: 860px)").matches) $("grid-heading").scrollIntoView({ block: "start" });
  el.run.setAttribute("aria-busy", "true");
  showProgress({ phase: "upload", loaded: 0, total: 0 });
  try {
    let status = await submitJob(jobForm(req, req.lists.widths, req.lists.qualities), {
      signal: controller.signal, onProgress: (e) => showProgress(e),
    });
    if (state.controller !== controller) return;
    state.run.jobId = status.id;
    el.grid.dataset.jobId = status.id;
    applyStatus(status);
    status = await followJob(status, { signal: controller.signal, onStatus: (s) => { if (state.controller === controller) applyStatus(s); } });
    if (state.controller !== controller) return;
    if (status.status !== "done") errors.show({ i18nKey: "batch.job_ended", params: { status: t(`job.${status.status}`) } });
  } catch (err) {
    if (isAbort(err) || state.controller !== controller) return;
    if (!state.run.jobId) clearGrid();
    errors.show(err);
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      el.run.removeAttribute("aria-busy");
      renderProgress();
    }
  }
}

/**
 * The output of each cell. The service makes each distinct output once: without enlarging, every
 * width at or past the original's gives the original's size, so those cells share one output;
 * the others are found by the width they asked for (requested_width).
 */
function applyStatus(status) {
  const run = state.run;
  run.status = status;
  const outputs = status.outputs || [];
  const own = new Map(outputs.filter((o) => o.requested_width != null).map((o) => [`${o.requested_width}/${o.quality}`, o]));
  const originalWidth = status.original?.width;
  for (const cell of state.cells.values()) {
    if (cell.retrying || cell.retried) continue;
    let out = own.get(cell.key);
    if (!out) {
      const expected = run.options.enlarge || !originalWidth ? cell.width : Math.min(cell.width, originalWidth);
      out = outputs.find((o) => (o.quality ?? null) === (cell.quality ?? null) && o.width === expected) || null;
    }
    cell.out = out;
  }
  if (status.status === "done" || (status.done > 0 && isFinished(status))) setDownloadAll(status.archive_url);
  renderGrid();
  renderProgress();
}

async function retryCell(cell) {
  const run = state.run;
  if (!run) return;
  cell.retrying = true;
  renderGrid();
  try {
    let status = await submitJob(jobForm(run, [cell.width], [cell.quality]));
    const update = (s) => {
      const out = (s.outputs || [])[0];
      if (out) cell.out = out;
      renderGrid();
    };
    update(status);
    status = await followJob(status, { onStatus: update });
    cell.retried = true;
  } catch (err) {
    if (!isAbort(err)) cell.out = { ...(cell.out || {}), state: "failed", error: err.message || String(err.code) };
  } finally {
    cell.retrying = false;
    renderGrid();
  }
}

function setDownloadAll(url) {
  if (url) {
    el.downloadAll.href = url;
    el.downloadAll.download = `${state.run.stem}_batch.zip`;
    el.downloadAll.setAttribute("aria-disabled", "false");
  } else {
    el.downloadAll.removeAttribute("href");
    el.downloadAll.setAttribute("aria-disabled", "true");
  }
}

// ---------------------------------------------------------------- progress

function showProgress(evt) {
  el.progress.hidden = false;
  if (evt.phase === "upload") {
    const pct = evt.total ? Math.round((evt.loaded / evt.total) * 100) : 0;
    el.progressBar.max = 100;
    el.progressBar.value = pct;
    el.progressText.textContent = t("progress.uploading", { pct });
  } else if (evt.phase === "retry") {
    el.progressText.textContent = t("progress.retry", { s: evt.seconds });
  } else if (evt.phase === "key") {
    el.progressBar.removeAttribute("value");
    el.progressText.textContent = t("progress.key");
  } else {
    el.progressBar.removeAttribute("value");
    el.progressText.textContent = t("progress.queued");
  }
}

/** done/total, failures, and the time left estimated from the pace so far. */
function renderProgress() {
  const run = state.run;
  const s = run && run.status;
  if (!s) return;
  el.progress.hidden = false;
  const finished = s.done + s.failed;
  el.progressBar.max = Math.max(1, s.total);
  el.progressBar.value = finished;
  el.progress.dataset.done = String(s.done);
  el.progress.dataset.total = String(s.total);
  const elapsed = (performance.now() - run.started) / 1000;
  let text = t("progress.job", { done: s.done, total: s.total });
  if (s.failed) text += ` · ${t("progress.job_failed", { n: s.failed })}`;
  if (isFinished(s)) text += ` · ${t("progress.job_took", { s: Math.round(elapsed) })}`;
  else if (finished > 0) {
    const left = ((s.total - finished) * elapsed) / finished;
    text += ` · ${t("progress.job_left", { s: Math.max(1, Math.round(left)) })}`;
  } else text += ` · ${t(`job.${s.status}`)}`;
  el.progressText.textContent = text;
}

// ---------------------------------------------------------------- grid

function clearGrid() {
  el.gridArea.hidden = true;
  el.gridEmpty.hidden = false;
  el.grid.tHead.replaceChildren();
  el.grid.tBodies[0].replaceChildren();
}

function renderGrid() {
  const run = state.run;
  if (!run) return;
  el.gridEmpty.hidden = true;
  el.gridArea.hidden = false;
  const original = run.status?.original || state.original || {};
  el.caption.textContent = t("batch.grid_caption", { w: original.width ?? "?", h: original.height ?? "?", bytes: original.bytes ?? run.file.size });
  const head = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = t("batch.corner");
  head.append(corner);
  for (const q of run.lists.qualities) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t("batch.q", { q });
    head.append(th);
  }
  el.grid.tHead.replaceChildren(head);
  el.grid.style.setProperty("--qcols", String(run.lists.qualities.length));
  const cells = [...state.cells.values()];
  const allBytes = doneCells(cells).map((c) => c.out.bytes);
  const rows = run.lists.widths.map((w) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = t("batch.w", { w });
    const actual = run.lists.qualities.map((q) => state.cells.get(`${w}/${q}`)?.out?.width).find((x) => x);
    if (actual && actual !== w) {
      // A width past the original's holds the original's size: say so on the row, not quietly.
      const note = document.createElement("span");
      note.className = "row-note";
      note.setAttribute("data-testid", "batch-row-actual");
      note.textContent = t("batch.row_actual", { w: actual });
      th.append(note);
    }
    tr.append(th);
    for (const q of run.lists.qualities) tr.append(renderCell(state.cells.get(`${w}/${q}`), allBytes));
    return tr;
  });
  el.grid.tBodies[0].replaceChildren(...rows);
  drawChart(el.chart, el.chartLegend, cells, run.lists.widths, (cell) => viewer.open(cell));
  renderExport();
}

function renderCell(cell, allBytes) {
  const td = document.createElement("td");
  td.setAttribute("data-testid", "batch-cell");
  td.dataset.key = cell.key;
  td.dataset.width = String(cell.width);
  td.dataset.quality = String(cell.quality);
  const out = cell.out;
  const st = cell.retrying ? "retrying" : out ? out.state : "pending";
  td.dataset.state = st;
  td.classList.toggle("chosen", state.chosen.has(cell.key));
  if (st === "done") {
    td.dataset.bytes = String(out.bytes);
    if (out.score != null) td.dataset.score = String(out.score);
    td.style.setProperty("--hue", String(Math.round(130 - 130 * sizeRank(out.bytes, allBytes))));
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cell-button";
    const name = out.name;
    button.setAttribute("aria-label", t("batch.view_label", { name }));
    button.title = `${name}\n${sizeText(out.bytes)}\n${out.width} × ${out.height}`;
    const bytes = document.createElement("span");
    bytes.className = "bytes";
    bytes.setAttribute("data-testid", "batch-cell-size");
    bytes.textContent = humanBytes(out.bytes);
    const score = document.createElement("span");
    score.className = "score";
    score.setAttribute("data-testid", "batch-cell-score");
    score.textContent = out.score != null ? out.score.toFixed(3) : "–";
    button.append(bytes, score);
    if (out.bytes > GATEWAY_MAX_BYTES) {
      const big = document.createElement("span");
      big.className = "cell-note";
      big.textContent = t("batch.over_gateway");
      button.append(big);
    }
    button.addEventListener("click", () => viewer.open(cell));
    td.append(button);
  } else if (st === "failed") {
    const msg = document.createElement("span");
    msg.className = "cell-error";
    msg.setAttribute("data-testid", "batch-cell-error");
    msg.textContent = out.error ? t("batch.cell_failed_because", { reason: out.error }) : t("batch.cell_failed");
    msg.title = out.error || "";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "small";
    retry.setAttribute("data-testid", "batch-cell-retry");
    retry.textContent = t("batch.retry");
    retry.addEventListener("click", () => retryCell(cell));
    td.append(msg, retry);
  } else {
    const wait = document.createElement("span");
    wait.className = "skeleton cell-wait";
    wait.setAttribute("aria-label", t(st === "running" || st === "retrying" ? "batch.pending" : "batch.queued"));
    td.append(wait);
  }
  return td;
}

// ---------------------------------------------------------------- pick best, export

/** The pick threshold's range and step: the service's min_score or max_bytes domain. */
function setPickBounds() {
  const mode = el.pickMode.value;
  const domain = PICK_DOMAINS[mode];
  el.pickValue.step = PICK_STEP[mode];
  for (const [attr, value] of [["min", domain?.minimum], ["max", domain?.maximum]]) {
    if (value == null) el.pickValue.removeAttribute(attr);
    else el.pickValue.setAttribute(attr, String(value));
  }
}

function pick() {
  if (!state.run) return;
  const mode = el.pickMode.value;
  const value = Number(el.pickValue.value);
  const picks = pickBest([...state.cells.values()], mode, value);
  state.chosen = new Set([...picks.values()].filter(Boolean).map((c) => c.key));
  const parts = [...picks.entries()].map(([w, c]) => (c
    ? t("pick.one", { w, q: c.quality ?? "–", bytes: humanBytes(c.out.bytes), score: c.out.score != null ? c.out.score.toFixed(3) : "–" })
    : t("pick.none", { w })));
  el.pickSummary.textContent = parts.join(" · ");
  renderGrid();
}

function renderExport() {
  const chosen = [...state.chosen].map((k) => state.cells.get(k)).filter((c) => c && c.out && c.out.state === "done");
  el.exportCode.value = chosen.length ? pictureSnippet(chosen, { mime: optionSpec.formatInfo(state.run.format).mime }) : "";
  el.exportCopy.disabled = !chosen.length;
  el.exportClear.disabled = !chosen.length;
}

async function copyExport() {
  try {
    await navigator.clipboard.writeText(el.exportCode.value);
  } catch (_) {
    el.exportCode.select(); // no clipboard permission: leave it selected for Ctrl+C
  }
  el.exportCopied.textContent = t("export.copied");
}

// ---------------------------------------------------------------- events

function bind() {
  page.onFile(loadFile, [$("grid-empty"), el.gridArea]);
  el.form.addEventListener("submit", (e) => { e.preventDefault(); runBatch(); });
  $("add-width").addEventListener("click", () => addValue("widths"));
  $("add-quality").addEventListener("click", () => addValue("qualities"));
  for (const input of [el.format, el.enlarge, el.keepMetadata, el.score]) input.addEventListener("change", changed);
  el.pick.addEventListener("click", pick);
  el.pickMode.addEventListener("change", () => {
    el.pickValue.value = String(PICK_START[el.pickMode.value]);
    setPickBounds();
  });
  el.exportCopy.addEventListener("click", copyExport);
  el.exportClear.addEventListener("click", () => { state.chosen.clear(); el.pickSummary.textContent = ""; renderGrid(); });
  el.downloadAll.addEventListener("click", (e) => { if (el.downloadAll.getAttribute("aria-disabled") === "true") e.preventDefault(); });
  bindApiDownload(el.downloadAll, (err) => errors.show(err)); // after the line above: a disabled link stays so
  onLangChange(() => {
    for (const name of Object.keys(LISTS)) renderList(name);
    refreshControls();
    renderCounts();
    renderGrid();
    renderProgress();
  });
}
