"""Per-request access log and HTTP metrics, measured to the last byte of the response."""

from __future__ import annotations

import logging
import time

from .. import metrics
from .asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessMiddleware", "route_label"]

log = logging.getLogger("service.access")

# Metric label values must stay few: known routes by name, everything else as "other".
_ROUTES = frozenset(
    {"/api/convert", "/api/batch", "/api/process", "/api/preview", "/health", "/ready", "/metrics", "/", "/batch"}
)


def route_label(path: str) -> str:
    if path in _ROUTES:
        return path
    if path.startswith("/static/"):
        return "/static"
    if path.startswith("/schema"):
        return "/schema"
    if path.startswith("/api/jobs"):  # ids never become labels
        return "/api/jobs"
    if path.startswith("/img/"):  # nor do URLs
        return "/img"
    if path == "/api/sources":
        return path
    return "other"


class AccessMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0
        answered = False
        client_left = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        async def receive_wrapper() -> Message:
            nonlocal client_left
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                client_left = True
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if client_left and status >= 500:
                status = 499  # the client left first (an aborted upload): not a server error
            elapsed = time.perf_counter() - started
            route = route_label(scope["path"])
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
            metrics.HTTP_DURATION.labels(route, method, str(status)).observe(elapsed)
            if route not in ("/health", "/ready", "/metrics"):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "bytes_out": sent,
                    },
                )
