// What both pages share: talking to the API (with upload/download progress and busy retries),
// turning API errors into plain words next to the right control, settings in localStorage,
// byte formatting, saving files, and the file picker / drop zone.

import { t, getLang, onLangChange } from "./i18n.js";
import { apiFetch, apiKey, isKeyRefusal, keyAccepted, keyNeeded, keysInUse } from "./apikey.js";

// ---------------------------------------------------------------- API

/** An error answer from the API ({"error": {status, code, message, field}}) or the network. */
export class ApiError extends Error {
  constructor({ status = 0, code = "network", message = "", field = null, allowed = null, received = null } = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field;
    this.allowed = allowed; // option errors name what is accepted and what arrived
    this.received = received;
  }
}

function parseRetryAfter(value) {
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

async function errorFromResponse(xhr) {
  let body = xhr.response;
  try {
    if (body instanceof Blob) body = await body.text();
    const parsed = typeof body === "string" ? JSON.parse(body) : body;
    if (parsed && parsed.error) {
      const e = new ApiError({ status: xhr.status, ...parsed.error });
      e.retryAfter = parseRetryAfter(xhr.getResponseHeader("Retry-After"));
      return e;
    }
  } catch (_) { /* not our JSON error shape: describe it by status below */ }
  const e = new ApiError({ status: xhr.status, code: `http_${xhr.status}`, message: xhr.statusText });
  e.retryAfter = parseRetryAfter(xhr.getResponseHeader("Retry-After"));
  return e;
}

/**
 * POST a FormData with XMLHttpRequest (fetch cannot report upload progress).
 * onProgress receives {phase: "upload"|"processing"|"download", loaded, total}.
 * Resolves {status, header(name), body}; rejects with ApiError, or an AbortError.
 */
function postOnce(url, formData, { onProgress = () => {}, responseType = "blob", signal, key = null } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    if (key) xhr.setRequestHeader("X-API-Key", key);
    xhr.responseType = responseType;
    xhr.upload.onprogress = (e) => onProgress({ phase: "upload", loaded: e.loaded, total: e.lengthComputable ? e.total : 0 });
    xhr.upload.onload = () => onProgress({ phase: "processing" });
    xhr.onprogress = (e) => onProgress({ phase: "download", loaded: e.loaded, total: e.lengthComputable ? e.total : 0 });
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), body: xhr.response });
      } else {
        reject(await errorFromResponse(xhr));
      }
    };
    xhr.onerror = () => reject(new ApiError({ status: 0, code: "network" }));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    if (signal) {
      if (signal.aborted) { reject(new DOMException("aborted", "AbortError")); return; }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    onProgress({ phase: "upload", loaded: 0, total: 0 });
    xhr.send(formData);
  });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const id = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(id); reject(new DOMException("aborted", "AbortError")); }, { once: true });
  });
}

/**
 * postOnce with the API key, retried up to twice when the server says it is busy (503/429 +
 * Retry-After), and sent again once a key is entered when the service refused it (401).
 */
export async function post(url, formData, opts = {}) {
  const onProgress = opts.onProgress || (() => {});
  let busyRetries = 0;
  for (;;) {
    const key = apiKey();
    try {
      const res = await postOnce(url, formData, { ...opts, key });
      keyAccepted(key);
      return res;
    } catch (err) {
      if (isKeyRefusal(err)) {
        onProgress({ phase: "key" });
        await keyNeeded(key, opts.signal);
        continue;
      }
      const busy = err instanceof ApiError && (err.status === 503 || err.status === 429);
      if (!busy || busyRetries >= 2) throw err;
      busyRetries += 1;
      const wait = Math.min(Math.max(err.retryAfter ?? 1, 1), 10);
      onProgress({ phase: "retry", seconds: wait });
      await sleep(wait * 1000, opts.signal);
    }
  }
}

export function isAbort(err) {
  return err && err.name === "AbortError";
}

/** Append options to a FormData; booleans as "true"/"false", empty values left out. */
export function appendOptions(formData, options) {
  for (const [k, v] of Object.entries(options)) {
    if (v === null || v === undefined || v === "") continue;
    formData.append(k, typeof v === "boolean" ? String(v) : String(v));
  }
  return formData;
}

// ---------------------------------------------------------------- progress

/** Drives a .progress block: a <progress> bar and a line of text, with elapsed seconds. */
export class ProgressView {
  constructor(el) {
    this.el = el;
    this.bar = el.querySelector("progress");
    this.text = el.querySelector(".progress-text");
    this.timer = null;
    this.count = 0;
  }

  start(count = 0) {
    this.count = count;
    this.started = performance.now();
    this.phase = "upload";
    this.el.hidden = false;
    this.el.setAttribute("aria-busy", "true");
    this.update({ phase: "upload", loaded: 0, total: 0 });
    clearInterval(this.timer);
    this.timer = setInterval(() => { if (this.phase === "processing") this.render(); }, 200);
  }

  update(evt) {
    this.phase = evt.phase;
    this.last = evt;
    this.render();
  }

  render() {
    const evt = this.last || {};
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    if (evt.phase === "upload") {
      const pct = evt.total ? Math.round((evt.loaded / evt.total) * 100) : 0;
      this.bar.max = 100;
      this.bar.value = pct;
      this.text.textContent = t("progress.uploading", { pct });
    } else if (evt.phase === "processing") {
      this.bar.removeAttribute("value"); // indeterminate: the server does not report its progress
      this.text.textContent = this.count > 1 ? t("progress.processing_n", { n: this.count, s: secs }) : t("progress.processing", { s: secs });
    } else if (evt.phase === "download") {
      if (evt.total) { this.bar.max = evt.total; this.bar.value = evt.loaded; } else this.bar.removeAttribute("value");
      this.text.textContent = t("progress.downloading", { received: humanBytes(evt.loaded || 0) });
    } else if (evt.phase === "retry") {
      this.bar.removeAttribute("value");
      this.text.textContent = t("progress.retry", { s: evt.seconds });
    } else if (evt.phase === "key") {
      this.bar.removeAttribute("value");
      this.text.textContent = t("progress.key");
    }
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.el.hidden = true;
    this.el.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------- errors

const FIELD_LABEL_KEYS = {
  image: "file.legend",
  compression: "opt.compression",
  widths: "batch.widths",
  qualities: "batch.qualities",
  format: "opt.format",
  formats: "opt.format",
};

function fieldLabel(field) {
  const key = FIELD_LABEL_KEYS[field] || `opt.${field}`;
  const text = t(key);
  return text === key ? field : text;
}

// What each error code the service answers means to the user: exactly the codes service/errors.py
// declares for clients (tests/unit/test_errors.py compares the two). An i18n key, or a function of
// the error that picks one.
const ERROR_TEXT = {
  invalid_option: (err) => (err.field ? "error.invalid_field" : "error.invalid"),
  bad_request: "error.invalid",
  payload_too_large: "error.too_large",
  too_many_parts: "error.invalid",
  headers_too_large: "error.invalid",
  unsupported_media: "error.bad_image",
  unprocessable: (err) => (err.field === "image" ? "error.bad_image" : "error.invalid"),
  max_bytes_unreachable: "error.unreachable_target",
  min_score_unreachable: "error.unreachable_target",
  invalid_url: "error.image_url",
  invalid_url_option: "error.image_url",
  signature_invalid: "error.signature",
  url_expired: "error.url_expired",
  source_not_found: "error.source_not_found",
  source_unsupported: "error.source_unsupported",
  source_too_large: "error.too_large",
  unauthorized: "key.required",
  cross_origin_refused: "error.cross_origin",
  not_found: "error.server",
  method_not_allowed: "error.server",
  job_not_found: "error.not_found",
  output_not_found: "error.not_found",
  job_not_finished: "error.job_not_finished",
  overloaded: "error.busy",
  deadline: "error.busy",
  deadline_exceeded: "error.timeout",
  worker_crashed: "error.busy",
  shutting_down: "error.busy",
  too_many_jobs: "error.busy",
  storage_full: "error.storage_full",
  internal_error: "error.server",
};

/** An answer that is not the service's own (a proxy's or gateway's), worded by its status. */
function statusKey(status) {
  if (status === 413) return "error.too_large";
  if (status === 429 || status === 502 || status === 503) return "error.busy";
  if (status === 504) return "error.timeout";
  return status >= 400 && status < 500 ? "error.invalid" : "error.server";
}

/** Plain words for an error: {text, detail}. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return { text: t("error.server"), detail: t("error.details", { message: String(err && err.message ? err.message : err) }) };
  if (err.status === 0) return { text: t("error.network"), detail: "" };
  if (err.code === "invalid_option" && err.field && err.received != null && err.allowed) {
    // Say which value was refused in the user's words, and what would be accepted.
    return {
      text: t("error.invalid_value", { label: fieldLabel(err.field), received: err.received }),
      detail: t("error.allowed", { allowed: allowedText(err) }),
    };
  }
  const entry = Object.hasOwn(ERROR_TEXT, err.code) ? ERROR_TEXT[err.code] : null;
  const key = typeof entry === "function" ? entry(err) : entry || statusKey(err.status);
  const text = t(key, { label: err.field ? fieldLabel(err.field) : "" });
  const detail = err.message && err.message !== err.code ? t("error.details", { message: err.message }) : "";
  return { text, detail };
}

/** An option error's `allowed` (service: imaging/errors.py Allowed) in the page's language. */
export function allowedText(err) {
  const allowed = err.allowed || {};
  const choices = (allowed.choices || []).map(String).join(", ");
  switch (allowed.type) {
    case "integer":
    case "number":
      if (allowed.choices && allowed.choices.length) return t("error.allowed_choice", { choices });
      return t(allowed.type === "integer" ? "error.allowed_int" : "error.allowed_number", { min: allowed.minimum, max: allowed.maximum });
    case "boolean":
      return t("error.allowed_bool");
    case "choice":
    case "option":
      return t("error.allowed_choice", { choices });
    case "requires":
      return t("error.allowed_requires", { label: fieldLabel(allowed.option), choices });
    case "limit":
      return t(allowed.unit === "seconds" ? "error.allowed_seconds" : "error.allowed_outputs", { max: allowed.maximum });
    default:
      return err.message;
  }
}

/**
 * Shows errors in the general area (role=alert, data-testid=error) and, when the error names a
 * field, also next to that control (its .field-error, found by data-field-error), GOV.UK style:
 * the summary links to the control.
 */
export class ErrorView {
  constructor(generalEl) {
    this.general = generalEl;
    this.current = null;
    onLangChange(() => { if (this.current) this.show(this.current.err, this.current.field); });
  }

  clear() {
    this.current = null;
    this.general.hidden = true;
    this.general.replaceChildren();
    for (const el of document.querySelectorAll(".field-error")) {
      el.hidden = true;
      el.textContent = "";
    }
    for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }

  /** Show err (an ApiError, an Error, or {text} for a message of our own). field overrides err.field. */
  show(err, field = undefined) {
    this.clear();
    this.current = { err, field };
    const { text, detail } = err && err.i18nKey ? { text: t(err.i18nKey, err.params || {}), detail: "" } : describeError(err);
    const name = field !== undefined ? field : (err && err.field) || imageFault(err);
    const fieldEl = name ? findFieldError(name) : null;
    const p = document.createElement("p");
    p.className = "error-text";
    p.textContent = text;
    this.general.append(p);
    if (detail) {
      const d = document.createElement("p");
      d.className = "error-detail";
      d.textContent = detail;
      this.general.append(d);
    }
    if (fieldEl) {
      fieldEl.textContent = detail ? `${text} ${detail}` : text;
      fieldEl.hidden = false;
      const control = document.querySelector(`[aria-describedby~="${fieldEl.id}"]`);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        const a = document.createElement("a");
        a.href = `#${control.id}`;
        a.textContent = t("error.go_to", { label: fieldLabel(name) });
        a.addEventListener("click", (e) => { e.preventDefault(); control.focus(); });
        this.general.append(a);
      }
    }
    this.general.hidden = false;
  }
}

/** Errors about the upload itself that the API reports without a field still belong next to the file picker. */
function imageFault(err) {
  return err instanceof ApiError && [413, 415, 422].includes(err.status) ? "image" : null;
}

/** The error slot of the control named field that is on screen (options of other formats are hidden). */
function findFieldError(field) {
  const all = [...document.querySelectorAll(`[data-field-error="${CSS.escape(field)}"]`)];
  // The slot itself is hidden until used: only its ancestors decide whether it can be seen.
  return all.find((el) => !el.parentElement?.closest("[hidden]")) || null;
}

// ---------------------------------------------------------------- settings

export function loadSettings(key, defaults) {
  try {
    const raw = localStorage.getItem(key);
    if (raw) return { ...defaults, ...JSON.parse(raw) };
  } catch (_) { /* corrupt or blocked storage: use the defaults */ }
  return { ...defaults };
}

export function saveSettings(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* quota or blocked: not fatal */ }
}

// ---------------------------------------------------------------- bytes, names, files

export function humanBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

/** "12345 bytes (12.1 KB)": the exact integer first, for people and tests alike. */
export function sizeText(n) {
  return t("result.size", { bytes: String(n), human: humanBytes(n) });
}

/** {text, kind} comparing out to orig bytes; kind is smaller|larger|same. short: for grid cells. */
export function reductionText(orig, out, { short = false } = {}) {
  if (!orig) return { text: "", kind: "same" };
  const pct = ((orig - out) / orig) * 100;
  const shown = Math.abs(pct).toLocaleString(getLang(), { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const key = (name) => (short ? `${name}_short` : name);
  if (Math.abs(pct) < 0.05) return { text: t(key("result.same")), kind: "same" };
  return pct > 0
    ? { text: t(key("result.smaller"), { pct: shown }), kind: "smaller" }
    : { text: t(key("result.larger"), { pct: shown }), kind: "larger" };
}

/** The file name without its extension, safe to use in a download name. */
export function stemOf(filename) {
  const base = String(filename || "").split(/[\\/]/).pop().replace(/\.[^.]*$/, "");
  const safe = base.replace(/[^\p{L}\p{N}._-]+/gu, "_").replace(/^[._]+|_+$/g, "");
  return safe || "image";
}

export function filenameFromDisposition(value) {
  if (!value) return null;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(value);
  if (star) { try { return decodeURIComponent(star[1].trim()); } catch (_) { /* fall through */ } }
  const plain = /filename\s*=\s*"?([^";]+)"?/.exec(value);
  return plain ? plain[1].trim() : null;
}

/** Save a Blob (or a data: URL) as a file named name. */
export function saveFile(blobOrUrl, name) {
  const url = typeof blobOrUrl === "string" ? blobOrUrl : URL.createObjectURL(blobOrUrl);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  if (typeof blobOrUrl !== "string") setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * A link to an API file (<a href download>): followed as before without keys; with a key in use
 * the file is fetched with it and saved through a blob: URL. onError(err) gets what went wrong.
 */
export function bindApiDownload(anchor, onError = () => {}) {
  anchor.addEventListener("click", async (e) => {
    if (e.defaultPrevented || !keysInUse() || !anchor.getAttribute("href")) return;
    e.preventDefault();
    if (anchor.getAttribute("aria-busy") === "true") return;
    const url = anchor.href;
    const name = anchor.download || "download";
    anchor.setAttribute("aria-busy", "true");
    try {
      const res = await apiFetch(url, { cache: "no-store" });
      if (!res.ok) {
        let body = null;
        try { body = await res.json(); } catch (_) { /* not our JSON */ }
        throw new ApiError({ status: res.status, ...(body && body.error ? body.error : { code: `http_${res.status}` }) });
      }
      saveFile(await res.blob(), name);
    } catch (err) {
      onError(err instanceof ApiError ? err : new ApiError({ status: 0, code: "network" }));
    } finally {
      anchor.removeAttribute("aria-busy");
    }
  });
}

/** Decode a File in the browser for its pixel size. Resolves {url, width, height}, or null if it cannot. */
export function probeImage(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => resolve({ url, width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => { URL.revokeObjectURL(url); resolve(null); };
    img.src = url;
  });
}

/** Wire a drop zone (a <label> around a file input): picking or dropping calls onFile(file). */
export function bindDropzone(zone, input, onFile) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) return;
    onFile(file);
    input.value = ""; // so that choosing the same file again (edited meanwhile) is noticed
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file) onFile(file);
  });
  // A file dropped next to the zone must not make the browser navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
}

/**
 * More ways in for a file: dropped on any of targets (the result area), or pasted anywhere on the
 * page (a screenshot, an image copied in another program). Text pasted into a field is left alone.
 */
export function bindFileSources(targets, onFile) {
  const imageOf = (list) => [...(list || [])].find((f) => f && (f.type.startsWith("image/") || /\.(avif|heic|heif|tiff?)$/i.test(f.name)));
  for (const target of targets) {
    for (const type of ["dragenter", "dragover"]) {
      target.addEventListener(type, (e) => { e.preventDefault(); target.classList.add("dragging"); });
    }
    for (const type of ["dragleave", "drop"]) target.addEventListener(type, () => target.classList.remove("dragging"));
    target.addEventListener("drop", (e) => {
      e.preventDefault();
      const file = imageOf(e.dataTransfer && e.dataTransfer.files);
      if (file) onFile(file);
    });
  }
  window.addEventListener("paste", (e) => {
    const file = imageOf(e.clipboardData && e.clipboardData.files);
    if (!file) return;
    e.preventDefault();
    onFile(file);
  });
}

export function debounce(fn, ms) {
  let id = null;
  const wrapped = (...args) => {
    clearTimeout(id);
    id = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(id);
  return wrapped;
}
