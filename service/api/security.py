"""Security at the HTTP edge, before any handler runs: response headers on every answer, optional
API keys, cross-origin rules, and `/metrics` kept off the public port when asked.

- Every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy`,
  and a CSP: strict on the UI pages (same-origin scripts and styles only, no inline code; images
  from blob:/data: for previews), `default-src 'none'` on everything else but the API docs.
- API keys (`API_KEYS`, off when empty): `/api/*`, `/schema` and `/metrics` need `X-API-Key: <key>`
  or `Authorization: Bearer <key>` (Prometheus sends the latter). Keys are compared in constant
  time, every configured key every time. The UI pages, static files, `/health` and `/ready` stay open.
- Cross-origin (`CORS_ORIGINS`): a browser request from another site is refused (403) unless its
  Origin is listed, before its body is read: a multipart POST needs no preflight, so without this
  any web page could spend our CPU through its visitors' browsers. Listed origins get CORS headers
  and preflight answers.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import orjson

from .. import metrics
from ..errors import CROSS_ORIGIN_REFUSED, NOT_FOUND, UNAUTHORIZED, Code
from ..settings import Settings
from .asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ALLOWED_HEADERS",
    "API_CSP",
    "COMMON",
    "EXPOSED_HEADERS",
    "UI_CSP",
    "UI_PAGES",
    "SecurityMiddleware",
    "key_matches",
    "needs_key",
    "offered_key",
    "same_origin",
]

UI_PAGES = frozenset({"/", "/batch"})
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
ALLOWED_HEADERS = "Content-Type, X-API-Key, Authorization, Accept"
EXPOSED_HEADERS = (
    "Content-Disposition, X-Image-Width, X-Image-Height, X-Input-Width, X-Input-Height, "
    "X-Input-Bytes, X-Quality, X-Quality-Score, Retry-After"
)


def needs_key(path: str) -> bool:
    return path.startswith(("/api/", "/schema")) or path == "/metrics"


def key_matches(offered: str, keys: tuple[str, ...]) -> bool:
    """Constant time in the offered value, and every key is compared whatever matched."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(offered.encode(), key.encode())
    return found


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def offered_key(scope: Scope) -> str | None:
    key = _header(scope, b"x-api-key")
    if key is not None:
        return key.strip()
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def same_origin(scope: Scope, origin: str) -> bool:
    """The browser's own word first (Sec-Fetch-Site), else Origin's host against Host: the scheme
    is not compared, since TLS ends at API Gateway or the load balancer in front of us."""
    site = _header(scope, b"sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    netloc = urlsplit(origin).netloc.lower()
    hosts = {(_header(scope, b"host") or "").lower(), (_header(scope, b"x-forwarded-host") or "").lower()}
    return bool(netloc) and netloc in hosts


def _json(code: Code, message: str, extra: list[tuple[bytes, bytes]]) -> tuple[Message, Message]:
    body = orjson.dumps({"error": {"status": code.status, "code": code.name, "message": message}})
    start: Message = {
        "type": "http.response.start",
        "status": code.status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra],
    }
    return start, {"type": "http.response.body", "body": body}


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.keys = settings.api_keys
        self.origins = frozenset(settings.cors_origins)
        self.metrics_elsewhere = settings.metrics_port != 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        origin = _header(scope, b"origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None and not same_origin(scope, origin):
            if origin in self.origins or "*" in self.origins:
                cors = [
                    (b"access-control-allow-origin", origin.encode("latin-1")),
                    (b"vary", b"Origin"),
                    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                ]
                if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
                    await self._preflight(send, cors)
                    return
            elif scope["method"] not in ("GET", "HEAD"):
                await self._refuse(
                    send, CROSS_ORIGIN_REFUSED, f"Requests from {origin} are not allowed (CORS_ORIGINS)", []
                )
                return
        if self.metrics_elsewhere and path == "/metrics":
            await self._refuse(send, NOT_FOUND, "Metrics are served on METRICS_PORT", cors)
            return
        if self.keys and needs_key(path) and scope["method"] != "OPTIONS":
            offered = offered_key(scope)
            if offered is None or not key_matches(offered, self.keys):
                await self._refuse(
                    send,
                    UNAUTHORIZED,
                    "A valid API key is required (X-API-Key header)",
                    [(b"www-authenticate", b'Bearer realm="api"'), *cors],
                )
                return
        csp = UI_CSP if path in UI_PAGES else (None if path.startswith("/schema") else API_CSP)
        extra = [*COMMON, *cors]
        if csp is not None:
            extra.append((b"content-security-policy", csp.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    *cors,
                    *COMMON,
                    (b"access-control-allow-methods", b"GET, POST, DELETE, OPTIONS"),
                    (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, send: Send, code: Code, message: str, extra: list[tuple[bytes, bytes]]) -> None:
        if code.reason is not None:
            metrics.REJECTIONS.labels(code.reason).inc()
        start, body = _json(code, message, [*extra, *COMMON, (b"content-security-policy", API_CSP.encode())])
        await send(start)
        await send(body)
