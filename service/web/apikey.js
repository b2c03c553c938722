// The optional API key (API_KEYS on the service). When the service answers 401 "unauthorized",
// the page shows its "API key" field (the form #api-key at the top of both pages), keeps the key
// in localStorage and sends it as X-API-Key with every request from then on. A request that was
// refused waits for a key and is sent again. Files the page used to load by URL from /api/*
// (<img src>, <a href download>) cannot carry a header: with a key in use they are fetched here
// and shown or saved through blob: URLs. Without keys on the service nothing of this is visible.

import { t, onLangChange } from "./i18n.js";

const STORAGE_KEY = "imageconv.apikey";

let key = readStored();
let asked = false; // the service refused a request on this page: keys are on
let waiters = []; // {resolve, reject, signal, onAbort} of requests waiting for a key
let message = null; // {kind: "error"|"status", i18nKey} shown under the field
const objectUrls = new Map(); // API URL -> Promise of a blob: URL

function readStored() {
  try { return localStorage.getItem(STORAGE_KEY) || null; } catch (_) { return null; }
}

/** The key the page sends now, or null. */
export function apiKey() {
  return key;
}

/** Whether requests to /api/* need the key's path (header, blob: URLs) rather than plain URLs. */
export function keysInUse() {
  return Boolean(key) || asked;
}

/** headers plus X-API-Key when there is a key. */
export function withKey(headers = {}, sent = key) {
  return sent ? { ...headers, "X-API-Key": sent } : { ...headers };
}

/** An API error that means "no key, or not a key the service knows" (security.py). */
export function isKeyRefusal(err) {
  return Boolean(err) && err.status === 401 && String(err.code) === "unauthorized";
}

const $ = (id) => document.getElementById(id);

/** Wire the key form of the page (if it has one); shown at once when a key is stored. */
export function setupApiKey() {
  const form = $("api-key");
  if (!form) return;
  const input = $("api-key-input");
  input.value = key || "";
  form.hidden = !keysInUse();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) {
      input.focus();
      show({ kind: "error", i18nKey: "key.empty" });
      return;
    }
    key = value;
    try { localStorage.setItem(STORAGE_KEY, value); } catch (_) { /* kept for this page only */ }
    show({ kind: "status", i18nKey: "key.saved" });
    const ready = waiters;
    waiters = [];
    for (const w of ready) { w.signal?.removeEventListener("abort", w.onAbort); w.resolve(); }
  });
  $("api-key-forget").addEventListener("click", () => {
    key = null;
    input.value = "";
    try { localStorage.removeItem(STORAGE_KEY); } catch (_) { /* nothing stored */ }
    releaseObjectUrls();
    show({ kind: "status", i18nKey: "key.forgotten" });
    input.focus();
  });
  onLangChange(() => show(message));
}

function show(next) {
  message = next;
  const error = $("api-key-error");
  const status = $("api-key-status");
  const input = $("api-key-input");
  if (!error) return;
  const isError = Boolean(next) && next.kind === "error";
  error.hidden = !isError;
  error.textContent = isError ? t(next.i18nKey) : "";
  status.textContent = next && !isError ? t(next.i18nKey) : "";
  if (isError) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/**
 * A request sent with the key `sent` (null: none) was refused. Shows the field and resolves when
 * the user has entered a key, to send the request again; at once when the key changed meanwhile.
 * Rejects with an AbortError when signal aborts first.
 */
export function keyNeeded(sent, signal) {
  asked = true;
  if (signal?.aborted) return Promise.reject(new DOMException("aborted", "AbortError"));
  if (key && key !== sent) return Promise.resolve();
  const form = $("api-key");
  if (!form) return Promise.reject(new Error("API key required"));
  const first = form.hidden;
  form.hidden = false;
  show({ kind: "error", i18nKey: sent ? "key.refused" : "key.required" });
  if (first || sent) $("api-key-input").focus();
  return new Promise((resolve, reject) => {
    const w = { resolve, reject, signal };
    w.onAbort = () => {
      waiters = waiters.filter((x) => x !== w);
      reject(new DOMException("aborted", "AbortError"));
    };
    signal?.addEventListener("abort", w.onAbort, { once: true });
    waiters.push(w);
  });
}

/** A request sent with the key `sent` was answered, not refused: a refusal shown for it is over. */
export function keyAccepted(sent) {
  if (sent && sent === key && message && message.kind === "error") show(null);
}

async function errorCode(res) {
  try {
    const body = await res.clone().json();
    return body && body.error ? body.error.code : null;
  } catch (_) {
    return null;
  }
}

/**
 * fetch() with the key; a refusal waits for a key (keyNeeded) and is sent again. waitSignal
 * (default: init.signal) stops the wait. Resolves the Response of the last attempt.
 */
export async function apiFetch(url, init = {}, waitSignal = init.signal) {
  for (;;) {
    const sent = key;
    const res = await fetch(url, { ...init, headers: withKey(init.headers, sent) });
    if (res.status === 401 && isKeyRefusal({ status: 401, code: await errorCode(res) })) {
      await keyNeeded(sent, waitSignal);
      continue;
    }
    keyAccepted(sent);
    return res;
  }
}

/** A blob: URL of an API file fetched with the key (one fetch per URL while the page lives). */
export function apiObjectUrl(url) {
  if (!objectUrls.has(url)) {
    const made = apiFetch(url, { cache: "no-store" }).then(async (res) => {
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
      return URL.createObjectURL(await res.blob());
    });
    made.catch(() => objectUrls.delete(url)); // tried again next time it is shown
    objectUrls.set(url, made);
  }
  return objectUrls.get(url);
}

/** Show an API image in img: its URL as before without keys, else through a blob: URL. */
export function setApiImage(img, url) {
  if (!keysInUse()) {
    img.src = url;
    return;
  }
  img.removeAttribute("src");
  apiObjectUrl(url).then((blobUrl) => { img.src = blobUrl; }, () => { img.dataset.failed = "true"; });
}

/** Free the blob: URLs made so far (a new grid replaces their files). */
export function releaseObjectUrls() {
  for (const made of objectUrls.values()) made.then((u) => URL.revokeObjectURL(u), () => null);
  objectUrls.clear();
}
