// The single-image page: pick or drop a file, set size/format/quality, see a debounced live
// preview from POST /api/convert, compare it with the original and download it.

import { t, onLangChange } from "./i18n.js";
import { FORMATS, defaultOptions, fillFormatSelect, formatInfo, qualityApplies, renderOptionPanels } from "./formats.js";
import {
  ErrorView, ProgressView, appendOptions, bindDropzone, debounce, isAbort, loadSettings,
  post, probeImage, reductionText, saveFile, saveSettings, setupPage, sizeText, stemOf,
} from "./common.js";

const SETTINGS_KEY = "imageconv.single.v1";
const PREVIEW_DELAY_MS = 450;
const DEFAULTS = {
  width: "", height: "", lock: true, lastEdited: "width", fit: "inside", enlarge: false, keepMetadata: false,
  format: "webp", quality: 80, options: defaultOptions(), live: true, compare: "slider", comparePos: 50,
};

const $ = (id) => document.getElementById(id);
const el = {
  form: $("controls"), file: $("file"), dropzone: $("dropzone"),
  width: $("width"), height: $("height"), lock: $("lock"), fit: $("fit"), enlarge: $("enlarge"), keepMetadata: $("keep_metadata"),
  format: $("format"), quality: $("quality"), qualityValue: $("quality-value"), qualityHint: $("quality-hint"),
  convert: $("convert"), download: $("download"), live: $("live"),
  originalFacts: $("original-facts"), originalName: $("original-name"), originalDims: $("original-dims"), originalSize: $("original-size"),
  resultFacts: $("result-facts"), resultSize: $("result-size"), resultReduction: $("result-reduction"),
  resultDims: $("result-dims"), resultTime: $("result-time"), resultEmpty: $("result-empty"), resultNote: $("result-note"),
  compare: $("compare"), stage: $("compare-stage"), range: $("compare-range"),
  originalImage: $("original-image"), resultImage: $("result-image"),
};

const state = {
  file: null,
  original: null, // {url, width, height}
  reading: false, // the original is being decoded (in the browser, or by the service for TIFF/HEIC)
  result: null, // {blob, url, width, height, format, quality, ms, shown}
  controller: null,
  lastEdited: "width",
};

setupPage();
fillFormatSelect(el.format);
const errors = new ErrorView($("error"));
const progress = new ProgressView($("progress"));
const panels = renderOptionPanels($("format-options"), "opt", () => settingsChanged());

restoreSettings();
bindEvents();

// ---------------------------------------------------------------- settings

function restoreSettings() {
  const s = loadSettings(SETTINGS_KEY, DEFAULTS);
  el.width.value = s.width;
  el.height.value = s.height;
  el.lock.checked = Boolean(s.lock);
  state.lastEdited = s.lastEdited === "height" ? "height" : "width";
  el.fit.value = s.fit;
  el.enlarge.checked = Boolean(s.enlarge);
  el.keepMetadata.checked = Boolean(s.keepMetadata);
  el.format.value = FORMATS.some((f) => f.id === s.format) ? s.format : DEFAULTS.format;
  el.quality.value = String(s.quality);
  el.live.checked = Boolean(s.live);
  panels.write(s.options);
  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) radio.checked = radio.value === s.compare;
  el.compare.dataset.mode = s.compare === "side" ? "side" : "slider";
  el.range.value = String(s.comparePos);
  refreshControls();
}

function storeSettings() {
  saveSettings(SETTINGS_KEY, {
    width: el.width.value, height: el.height.value, lock: el.lock.checked, lastEdited: state.lastEdited,
    fit: el.fit.value, enlarge: el.enlarge.checked, keepMetadata: el.keepMetadata.checked, format: el.format.value, quality: Number(el.quality.value), options: panels.readAll(),
    live: el.live.checked, compare: el.compare.dataset.mode, comparePos: Number(el.range.value),
  });
}

/** Show the chosen format's panel, and say when quality does not apply. */
function refreshControls() {
  const fmt = el.format.value;
  panels.show(fmt);
  el.qualityValue.value = el.quality.value;
  const applies = qualityApplies(fmt, panels.read(fmt));
  el.quality.disabled = !applies;
  el.qualityHint.hidden = applies;
  el.fit.disabled = el.lock.checked;
  el.stage.style.setProperty("--pos", `${el.range.value}%`);
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
  if (qualityApplies(fmt, extra)) options.quality = el.quality.value;
  return { ...options, ...extra };
}

// ---------------------------------------------------------------- file

async function loadFile(file) {
  previewSoon.cancel();
  state.controller?.abort();
  errors.clear();
  state.file = file;
  clearResult();
  if (state.original) URL.revokeObjectURL(state.original.url);
  state.original = null;
  el.originalFacts.hidden = false;
  el.originalName.textContent = file.name;
  el.originalSize.textContent = sizeText(file.size);
  el.originalDims.textContent = t("file.reading");

  state.reading = true;
  let probed = await probeImage(file);
  if (state.file !== file) return;
  if (!probed) {
    // The browser cannot show this format (TIFF, HEIC, …): let the service make a viewable copy.
    probed = await serverPreviewOfOriginal(file);
    if (state.file !== file) return;
  }
  state.reading = false;
  if (!probed) return; // the service's error is on screen next to the file picker
  state.original = probed;
  renderOriginal();
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
      el.originalDims.textContent = "";
      errors.show(err, err.field || "image");
    }
    return null;
  } finally {
    if (state.controller === controller) { state.controller = null; progress.stop(); }
  }
}

function renderOriginal() {
  if (!state.original) return;
  el.originalDims.textContent = t("file.dimensions", { w: state.original.width, h: state.original.height });
  el.originalSize.textContent = sizeText(state.file.size);
  el.originalImage.src = state.original.url;
}

// ---------------------------------------------------------------- convert

async function convert() {
  previewSoon.cancel();
  if (!state.file) {
    errors.show({ i18nKey: "error.no_file" }, "image");
    el.file.focus();
    return;
  }
  if (state.reading) return; // loadFile converts when it has read the original
  // Without state.original the file could not be read; sending it again shows the service's reason.
  state.controller?.abort();
  const controller = new AbortController();
  state.controller = controller;
  errors.clear();
  const options = requestOptions();
  const fd = new FormData();
  fd.append("image", state.file, state.file.name);
  appendOptions(fd, options);

  const started = performance.now();
  progress.start();
  el.convert.setAttribute("aria-busy", "true");
  el.compare.classList.add("busy");
  try {
    const res = await post("/api/convert", fd, { signal: controller.signal, onProgress: (e) => progress.update(e) });
    if (state.controller !== controller) return;
    const blob = res.body;
    const width = Number(res.header("X-Image-Width")) || null;
    const height = Number(res.header("X-Image-Height")) || null;
    await showResult({ blob, width, height, format: options.format, quality: Number(options.quality), ms: performance.now() - started });
  } catch (err) {
    if (isAbort(err) || state.controller !== controller) return;
    errors.show(err);
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
  el.download.disabled = false;
  el.compare.hidden = !result.shown || !state.original;
  el.resultEmpty.hidden = true;
  renderResultFacts();
}

function renderResultFacts() {
  const r = state.result;
  if (!r) return;
  el.resultFacts.hidden = false;
  el.resultSize.textContent = sizeText(r.blob.size);
  const red = reductionText(state.file.size, r.blob.size);
  el.resultReduction.textContent = red.text;
  el.resultReduction.dataset.kind = red.kind;
  el.resultDims.textContent = r.width ? t("result.dimensions", { w: r.width, h: r.height, format: formatInfo(r.format).label }) : formatInfo(r.format).label;
  el.resultTime.textContent = t("result.time", { s: (r.ms / 1000).toFixed(2) });
  el.resultNote.hidden = r.shown;
  el.resultNote.textContent = r.shown ? "" : t("result.not_shown", { format: formatInfo(r.format).label });
}

function clearResult() {
  if (state.result) URL.revokeObjectURL(state.result.url);
  state.result = null;
  el.resultImage.removeAttribute("src");
  el.download.disabled = true;
  el.compare.hidden = true;
  el.resultFacts.hidden = true;
  el.resultNote.hidden = true;
  el.resultEmpty.hidden = false;
}

function downloadName(r) {
  // The server's naming ({stem}_{w}x{h}_q{q}.{ext}), without a quality where none applied.
  const q = Number.isFinite(r.quality) ? `_q${r.quality}` : "";
  return `${stemOf(state.file.name)}_${r.width}x${r.height}${q}.${formatInfo(r.format).ext}`;
}

// ---------------------------------------------------------------- events

function bindEvents() {
  bindDropzone(el.dropzone, el.file, loadFile);

  el.form.addEventListener("submit", (e) => { e.preventDefault(); convert(); });
  el.download.addEventListener("click", () => { if (state.result) saveFile(state.result.blob, downloadName(state.result)); });

  el.width.addEventListener("input", () => { state.lastEdited = "width"; syncOtherDimension(); settingsChanged(); });
  el.height.addEventListener("input", () => { state.lastEdited = "height"; syncOtherDimension(); settingsChanged(); });
  el.lock.addEventListener("change", () => { syncOtherDimension(); settingsChanged(); });
  for (const input of [el.fit, el.format, el.enlarge, el.keepMetadata]) input.addEventListener("change", settingsChanged);
  el.quality.addEventListener("input", settingsChanged);
  el.live.addEventListener("change", () => { storeSettings(); if (el.live.checked && state.file) previewSoon(); });

  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) {
    radio.addEventListener("change", () => { el.compare.dataset.mode = radio.value; storeSettings(); });
  }
  el.range.addEventListener("input", () => { refreshControls(); storeSettings(); });
  // Drag anywhere on the picture to move the divider (the range input stays the keyboard control).
  let dragging = false;
  const moveTo = (e) => {
    const box = el.stage.getBoundingClientRect();
    el.range.value = String(Math.round(Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1) * 100));
    refreshControls();
  };
  el.stage.addEventListener("pointerdown", (e) => {
    if (el.compare.dataset.mode !== "slider") return;
    dragging = true;
    el.stage.setPointerCapture(e.pointerId);
    moveTo(e);
  });
  el.stage.addEventListener("pointermove", (e) => { if (dragging) moveTo(e); });
  el.stage.addEventListener("pointerup", () => { if (dragging) { dragging = false; storeSettings(); } });

  onLangChange(() => {
    if (state.file) {
      el.originalSize.textContent = sizeText(state.file.size);
      if (state.original) renderOriginal();
    }
    renderResultFacts();
  });
}
