// The single-image page: pick or drop a file, set size/format/quality, see a debounced live
// preview from POST /api/convert, compare it with the original and download it.

import { t, onLangChange } from "./i18n.js";
import { defaultQuality, formatLabel, qualityApplies } from "./formats.js";
import { startPage } from "./page.js";
import {
  ProgressView, appendOptions, debounce, isAbort, post, probeImage, reductionText, saveFile, saveSettings, sizeText, stemOf,
} from "./common.js";

// v2: the JPEG defaults and per-format qualities now come from the service; settings saved by the
// first page (every mozjpeg option off, one quality for all formats) would hide them.
const SETTINGS_KEY = "imageconv.single.v2";
const PREVIEW_DELAY_MS = 450;

const $ = (id) => document.getElementById(id);
const el = {
  form: $("controls"), file: $("file"), preview: $("preview"),
  width: $("width"), height: $("height"), lock: $("lock"), fit: $("fit"), enlarge: $("enlarge"), keepMetadata: $("keep_metadata"),
  format: $("format"), quality: $("quality"), qualityValue: $("quality-value"), qualityHint: $("quality-hint"),
  convert: $("convert"), download: $("download"), live: $("live"),
  resultFacts: $("result-facts"), resultSize: $("result-size"), resultReduction: $("result-reduction"),
  resultDims: $("result-dims"), resultTime: $("result-time"), resultEmpty: $("result-empty"), resultNote: $("result-note"),
  compare: $("compare"), stage: $("compare-stage"), range: $("compare-range"),
  originalImage: $("original-image"), resultImage: $("result-image"),
};

const state = {
  file: null,
  fileSeq: 0, // which upload: a result belongs to one file and one set of options
  original: null, // {url, width, height}
  reading: false, // the original is being decoded (in the browser, or by the service for TIFF/HEIC)
  result: null, // {blob, url, width, height, format, quality, ms, shown, key}
  controller: null,
  lastEdited: "width",
  qualities: {}, // each format keeps its own quality
  stored: { width: "", height: "" }, // the last valid sizes: an invalid one is never remembered
};

const page = await startPage({ panelPrefix: "opt", onChange: () => settingsChanged() });
const { spec, errors, panels } = page;
// Their domains are already bounded by the service's MAX_OUTPUT_DIMENSION.
const SIZE = { width: spec.anyDomain("width"), height: spec.anyDomain("height") };
const DEFAULTS = {
  width: "", height: "", lock: true, lastEdited: "width", fit: spec.uiDefault(spec.firstFormat(), "fit"),
  qualities: {}, live: true, compare: "slider", comparePos: 50,
};
fillFitSelect();
for (const name of ["width", "height"]) {
  el[name].min = String(SIZE[name].minimum);
  el[name].max = String(SIZE[name].maximum);
}
const progress = new ProgressView($("progress"));

restoreSettings();
bindEvents();
page.ready();

// ---------------------------------------------------------------- settings

function fillFitSelect() {
  el.fit.replaceChildren(...spec.choices("fit").map((c) => {
    const o = new Option(t(`fit.${c}`), c);
    o.dataset.i18n = `fit.${c}`;
    return o;
  }));
}

function validDimension(name, value) {
  const text = String(value ?? "").trim();
  if (text === "") return true;
  const n = Number(text);
  return Number.isInteger(n) && n >= SIZE[name].minimum && n <= SIZE[name].maximum;
}

function restoreSettings() {
  const s = page.restore(SETTINGS_KEY, DEFAULTS);
  state.stored.width = validDimension("width", s.width) ? String(s.width) : "";
  state.stored.height = validDimension("height", s.height) ? String(s.height) : "";
  el.width.value = state.stored.width;
  el.height.value = state.stored.height;
  el.lock.checked = Boolean(s.lock);
  state.lastEdited = s.lastEdited === "height" ? "height" : "width";
  el.fit.value = spec.choices("fit").includes(s.fit) ? s.fit : DEFAULTS.fit;
  state.qualities = s.qualities && typeof s.qualities === "object" ? { ...s.qualities } : {};
  el.live.checked = Boolean(s.live);
  showQuality();
  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) radio.checked = radio.value === s.compare;
  el.compare.dataset.mode = s.compare === "side" ? "side" : "slider";
  el.range.value = String(s.comparePos);
  refreshControls();
}

function storeSettings() {
  if (validDimension("width", el.width.value)) state.stored.width = el.width.value.trim();
  if (validDimension("height", el.height.value)) state.stored.height = el.height.value.trim();
  saveSettings(SETTINGS_KEY, {
    ...page.stored(), width: state.stored.width, height: state.stored.height, lock: el.lock.checked,
    lastEdited: state.lastEdited, fit: el.fit.value, qualities: state.qualities,
    live: el.live.checked, compare: el.compare.dataset.mode, comparePos: Number(el.range.value),
  });
}

/** Put the chosen format's own quality (and its range) on the slider; none when the format takes none. */
function showQuality() {
  const fmt = el.format.value;
  const domain = spec.quality(fmt);
  if (!domain) return; // refreshControls disables the slider: quality does not apply
  el.quality.min = String(domain.minimum);
  el.quality.max = String(domain.maximum);
  const saved = Number(state.qualities[fmt]);
  const q = saved >= domain.minimum && saved <= domain.maximum ? saved : defaultQuality(spec, fmt);
  el.quality.value = String(q);
}

/** Show the chosen format's panel, and say when quality does not apply. */
function refreshControls() {
  const fmt = el.format.value;
  panels.show(fmt);
  el.qualityValue.value = el.quality.value;
  const applies = qualityApplies(spec, fmt, panels.read(fmt));
  el.quality.disabled = !applies;
  el.qualityHint.hidden = applies;
  el.fit.disabled = el.lock.checked;
  el.stage.style.setProperty("--pos", `${el.range.value}%`);
  markStale();
}

const previewSoon = debounce(() => convert(), PREVIEW_DELAY_MS);

function settingsChanged() {
  refreshControls();
  storeSettings();
  if (state.file && el.live.checked) previewSoon();
}

// ---------------------------------------------------------------- size and aspect ratio

function syncOtherDimension() {
  if (!el.lock.checked || !state.original) return;
  const { width: ow, height: oh } = state.original;
  if (state.lastEdited === "width") {
    const w = parseInt(el.width.value, 10);
    el.height.value = w > 0 ? String(Math.max(1, Math.round((w * oh) / ow))) : "";
  } else {
    const h = parseInt(el.height.value, 10);
    el.width.value = h > 0 ? String(Math.max(1, Math.round((h * ow) / oh))) : "";
  }
}

/** The options as the API wants them (docs/contract.md). */
function requestOptions() {
  const fmt = el.format.value;
  const options = { format: fmt };
  const w = el.width.value.trim();
  const h = el.height.value.trim();
  if (el.lock.checked) {
    // Send one side only: the server keeps the exact ratio, with no rounding of ours in between.
    if (state.lastEdited === "height" && h) options.height = h;
    else if (w) options.width = w;
    else if (h) options.height = h;
  } else {
    if (w) options.width = w;
    if (h) options.height = h;
    if (w && h) options.fit = el.fit.value;
  }
  if (el.enlarge.checked) options.enlarge = true;
  if (el.keepMetadata.checked) options.keep_metadata = true;
  const extra = panels.visible(fmt);
  // A quality for PNG would switch on palette quantisation server-side: send it only where it applies.
  if (qualityApplies(spec, fmt, extra)) options.quality = el.quality.value;
  return { ...options, ...extra };
}

/** What a result was made from: the file and every option sent. Download compares it with now. */
function currentKey() {
  return JSON.stringify([state.fileSeq, requestOptions()]);
}

/** A result that no longer matches the settings is shown as such (and never downloaded). */
function markStale() {
  const stale = Boolean(state.result) && state.result.key !== currentKey();
  el.preview.classList.toggle("stale", stale);
}

// ---------------------------------------------------------------- file

async function loadFile(file) {
  previewSoon.cancel();
  state.controller?.abort();
  errors.clear();
  state.file = file;
  state.fileSeq += 1;
  clearResult();
  if (state.original) URL.revokeObjectURL(state.original.url);
  state.original = null;
  page.facts.reading(file);

  state.reading = true;
  let probed = await probeImage(file);
  if (state.file !== file) return;
  if (probed) showOriginal(probed); // at once, before any conversion
  else {
    // The browser cannot show this format (TIFF, HEIC, …): let the service make a viewable copy.
    probed = await serverPreviewOfOriginal(file);
    if (state.file !== file) return;
  }
  state.reading = false;
  if (!probed) return; // the service's error is on screen next to the file picker
  showOriginal(probed);
  syncOtherDimension();
  storeSettings();
  if (el.live.checked) convert();
}

async function serverPreviewOfOriginal(file) {
  const fd = new FormData();
  fd.append("image", file, file.name);
  appendOptions(fd, { format: "png" });
  const controller = new AbortController();
  state.controller = controller;
  progress.start();
  try {
    const res = await post("/api/convert", fd, { signal: controller.signal, onProgress: (e) => progress.update(e) });
    return { url: URL.createObjectURL(res.body), width: Number(res.header("X-Image-Width")), height: Number(res.header("X-Image-Height")) };
  } catch (err) {
    if (!isAbort(err)) {
      page.facts.show(null);
      errors.show(err, err.field || "image");
    }
    return null;
  } finally {
    if (state.controller === controller) { state.controller = null; progress.stop(); }
  }
}

function showOriginal(probed) {
  state.original = probed;
  renderOriginal();
  el.download.disabled = false; // Download converts first when there is no current result
  el.compare.hidden = false;
  el.resultEmpty.hidden = true;
}

function renderOriginal() {
  if (!state.original) return;
  page.facts.show(state.original);
  if (el.originalImage.getAttribute("src") !== state.original.url) el.originalImage.src = state.original.url;
}

// ---------------------------------------------------------------- convert

/** Convert with the current settings. Resolves true when state.result is what they produce. */
async function convert() {
  previewSoon.cancel();
  if (!state.file) {
    errors.show({ i18nKey: "error.no_file" }, "image");
    el.file.focus();
    return false;
  }
  if (state.reading) return false; // loadFile converts when it has read the original
  // Without state.original the file could not be read; sending it again shows the service's reason.
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  errors.clear();
  const options = requestOptions();
  const key = currentKey();
  const fd = new FormData();
  fd.append("image", state.file, state.file.name);
  appendOptions(fd, options);

  const started = performance.now();
  progress.start();
  el.convert.setAttribute("aria-busy", "true");
  el.compare.classList.add("busy");
  try {
    const res = await post("/api/convert", fd, { signal: controller.signal, onProgress: (e) => progress.update(e) });
    if (state.controller !== controller) return false;
    const blob = res.body;
    const width = Number(res.header("X-Image-Width")) || null;
    const height = Number(res.header("X-Image-Height")) || null;
    const used = Number(res.header("X-Quality"));
    const quality = Number.isFinite(used) && used > 0 ? used : Number(options.quality);
    await showResult({ blob, width, height, format: options.format, quality, ms: performance.now() - started, key });
    return true;
  } catch (err) {
    if (isAbort(err) || state.controller !== controller) return false;
    errors.show(err);
    return false;
  } finally {
    if (state.controller === controller) {
      state.controller = null;
      progress.stop();
      el.convert.removeAttribute("aria-busy");
      el.compare.classList.remove("busy");
    }
  }
}

async function showResult(result) {
  const old = state.result;
  result.url = URL.createObjectURL(result.blob);
  el.resultImage.src = result.url;
  try {
    await el.resultImage.decode();
    result.shown = true;
  } catch (_) {
    result.shown = false; // browsers do not display TIFF: the size and the download are still real
  }
  if (old) URL.revokeObjectURL(old.url);
  state.result = result;
  el.compare.hidden = !state.original;
  el.compare.dataset.result = result.shown ? "shown" : "none";
  el.resultEmpty.hidden = true;
  renderResultFacts();
  markStale();
}

function renderResultFacts() {
  const r = state.result;
  if (!r) return;
  el.resultFacts.hidden = false;
  el.resultSize.textContent = sizeText(r.blob.size);
  const red = reductionText(state.file.size, r.blob.size);
  el.resultReduction.textContent = red.text;
  el.resultReduction.dataset.kind = red.kind;
  el.resultDims.textContent = r.width ? t("result.dimensions", { w: r.width, h: r.height, format: formatLabel(r.format) }) : formatLabel(r.format);
  el.resultTime.textContent = t("result.time", { s: (r.ms / 1000).toFixed(2) });
  el.resultNote.hidden = r.shown;
  el.resultNote.textContent = r.shown ? "" : t("result.not_shown", { format: formatLabel(r.format) });
}

function clearResult() {
  if (state.result) URL.revokeObjectURL(state.result.url);
  state.result = null;
  el.resultImage.removeAttribute("src");
  el.download.disabled = !state.original; // a file the service could not read has nothing to save
  el.compare.hidden = !state.original;
  el.compare.dataset.result = "none";
  el.resultFacts.hidden = true;
  el.resultNote.hidden = true;
  el.resultEmpty.hidden = Boolean(state.original);
  markStale();
}

function downloadName(r) {
  // The server's naming ({stem}_{w}x{h}_q{q}.{ext}), without a quality where none applied.
  const q = Number.isFinite(r.quality) ? `_q${r.quality}` : "";
  return `${stemOf(state.file.name)}_${r.width}x${r.height}${q}.${spec.formatInfo(r.format).ext}`;
}

/** Save exactly what the current settings produce: convert first unless the result shown is that. */
async function download() {
  if (!state.file) { errors.show({ i18nKey: "error.no_file" }, "image"); return; }
  const key = currentKey();
  if (!state.result || state.result.key !== key) {
    el.download.setAttribute("aria-busy", "true");
    try {
      if (!(await convert())) return; // the error is on screen; nothing stale is saved
    } finally {
      el.download.removeAttribute("aria-busy");
    }
  }
  if (state.result && state.result.key === key) saveFile(state.result.blob, downloadName(state.result));
}

// ---------------------------------------------------------------- events

function bindEvents() {
  page.onFile(loadFile, [el.preview]); // also dropped on the result area, or pasted anywhere

  el.form.addEventListener("submit", (e) => { e.preventDefault(); convert(); });
  el.download.addEventListener("click", download);

  el.width.addEventListener("input", () => { state.lastEdited = "width"; syncOtherDimension(); settingsChanged(); });
  el.height.addEventListener("input", () => { state.lastEdited = "height"; syncOtherDimension(); settingsChanged(); });
  el.lock.addEventListener("change", () => { syncOtherDimension(); settingsChanged(); });
  for (const input of [el.fit, el.enlarge, el.keepMetadata]) input.addEventListener("change", settingsChanged);
  el.format.addEventListener("change", () => { showQuality(); settingsChanged(); });
  el.quality.addEventListener("input", () => { state.qualities[el.format.value] = Number(el.quality.value); settingsChanged(); });
  el.live.addEventListener("change", () => { storeSettings(); if (el.live.checked && state.file) previewSoon(); });

  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) {
    radio.addEventListener("change", () => { el.compare.dataset.mode = radio.value; storeSettings(); });
  }
  el.range.addEventListener("input", () => { refreshControls(); storeSettings(); });
  bindDivider();

  onLangChange(() => renderResultFacts()); // the original's facts keep their language themselves (page.js)
}

/**
 * Drag the compare divider with a mouse, a pen or a finger (pointer events). Only a pressed
 * button drags: the drag starts on pointerdown (its default, the browser's image drag and text
 * selection, prevented) and ends on release, cancel or lost capture. A touch drag moves the
 * divider instead of scrolling (touch-action in the stylesheet). The range input below the
 * picture is the keyboard control.
 */
function bindDivider() {
  let dragging = null;
  const moveTo = (e) => {
    const box = el.stage.getBoundingClientRect();
    if (!box.width) return;
    el.range.value = String(Math.round(Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1) * 100));
    refreshControls();
  };
  const end = () => {
    if (dragging === null) return;
    dragging = null;
    el.stage.classList.remove("dragging");
    storeSettings();
  };
  el.stage.addEventListener("pointerdown", (e) => {
    if (el.compare.dataset.mode !== "slider" || el.compare.dataset.result !== "shown") return;
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    dragging = e.pointerId;
    el.stage.classList.add("dragging");
    try { el.stage.setPointerCapture(e.pointerId); } catch (_) { /* synthetic pointers have nothing to capture */ }
    moveTo(e);
  });
  el.stage.addEventListener("pointermove", (e) => {
    if (dragging !== e.pointerId) return;
    if (e.pointerType === "mouse" && !(e.buttons & 1)) { end(); return; } // released outside the window
    moveTo(e);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) el.stage.addEventListener(type, end);
  el.stage.addEventListener("dragstart", (e) => e.preventDefault());
}
