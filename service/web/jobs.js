// The batch jobs API (POST /api/jobs, GET /api/jobs/{id}?wait=N): one upload, then a long poll
// that answers as soon as something changed. Every request stays far under API Gateway's 10 MB
// and 30 s: the upload is the only large body, a poll waits at most WAIT_SECONDS, and outputs
// are fetched one file at a time, only when shown.

import { ApiError, post } from "./common.js";
import { apiKey, isKeyRefusal, keyAccepted, keyNeeded, withKey } from "./apikey.js";

export const WAIT_SECONDS = 15; // the service caps ?wait at 20 s; 15 s leaves room for a slow network
const POLL_TIMEOUT_MS = (WAIT_SECONDS + 10) * 1000;
export const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;
const TERMINAL = new Set(["done", "failed", "cancelled"]);

export function isFinished(status) {
  return TERMINAL.has(status.status);
}

/** Submit a job. Resolves its status document (202). */
export async function submitJob(formData, { signal, onProgress } = {}) {
  const res = await post("/api/jobs", formData, { signal, onProgress, responseType: "json" });
  return res.body;
}

async function getStatus(id, wait, signal) {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), POLL_TIMEOUT_MS);
  const abort = () => timeout.abort();
  signal?.addEventListener("abort", abort, { once: true });
  const key = apiKey();
  try {
    const res = await fetch(`/api/jobs/${encodeURIComponent(id)}?wait=${wait}`, {
      signal: timeout.signal, cache: "no-store", headers: withKey({}, key),
    });
    if (res.status !== 401) keyAccepted(key);
    if (res.ok) return await res.json();
    let body = null;
    try { body = await res.json(); } catch (_) { /* not our JSON */ }
    const e = new ApiError({ status: res.status, ...(body && body.error ? body.error : { code: `http_${res.status}` }) });
    e.retryAfter = Number(res.headers.get("Retry-After")) || null;
    e.sentKey = key;
    throw e;
  } catch (err) {
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    if (err.name === "AbortError") throw new ApiError({ status: 0, code: "timeout" });
    if (err instanceof ApiError) throw err;
    throw new ApiError({ status: 0, code: "network" });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", abort);
  }
}

/** Cancel a job nobody will look at any more (a new grid replaced it); failures do not matter. */
export function cancelJob(id) {
  return fetch(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE", keepalive: true, headers: withKey() }).catch(() => null);
}

/**
 * Follow a job to its end, calling onStatus(status) after each answer. A lost connection or a
 * busy replica is retried (the job goes on without us); an unknown job (404) ends it. A refused
 * key (401) waits for the user to enter one, then polls again.
 */
export async function followJob(status, { signal, onStatus }) {
  let failures = 0;
  while (!isFinished(status)) {
    try {
      status = await getStatus(status.id, WAIT_SECONDS, signal);
      failures = 0;
      onStatus(status);
    } catch (err) {
      if (err.name === "AbortError" || (err instanceof ApiError && err.status === 404)) throw err;
      if (isKeyRefusal(err)) {
        await keyNeeded(err.sentKey, signal);
        continue;
      }
      failures += 1;
      if (failures > 8) throw err;
      const wait = Math.min(Math.max(err.retryAfter ?? failures, 1), 10);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    }
  }
  return status;
}
