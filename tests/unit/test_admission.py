"""Early admission (service/api/admission.py) driven as plain ASGI: a conversion POST is refused
from its headers alone when its Content-Length is over the limit or the pool would refuse it, in
the route's own error shape; everything else reaches the app with its body unread."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest
from prometheus_client import REGISTRY

from service.api.admission import EarlyAdmissionMiddleware
from service.api.asgi import Message, Receive, Scope, Send
from service.pool import Overloaded, PoolClosed
from service.settings import load_settings


class Pool:
    def __init__(self, refusal: Exception | None) -> None:
        self.refused, self.asked = refusal, []  # type: ignore[var-annotated]

    def refusal(self, batch: bool = False) -> Exception | None:
        self.asked.append(batch)
        return self.refused


def run(path: str, *, method: str = "POST", length: int | None = 10, pool: Pool | None = None) -> tuple:  # type: ignore[type-arg]
    reached: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    async def receive() -> Message:
        raise AssertionError("the body must not be read")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    litestar = SimpleNamespace(state=SimpleNamespace(engine=SimpleNamespace(pool=pool) if pool else None))
    layer = EarlyAdmissionMiddleware(app, load_settings({"MAX_UPLOAD_BYTES": "2000"}), litestar)  # type: ignore[arg-type]
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    asyncio.run(layer({"type": "http", "method": method, "path": path, "headers": headers}, receive, send))
    if not sent:
        return reached, None, {}, None
    start, body = sent
    return reached, start["status"], dict(start["headers"]), orjson.loads(body["body"])


def rejections(reason: str) -> float:
    return REGISTRY.get_sample_value("imageconv_rejections_total", {"reason": reason}) or 0.0


def test_an_upload_over_the_limit_is_refused_with_413_from_its_headers() -> None:
    before = rejections("too_large")
    reached, status, headers, body = run("/api/convert", length=2001, pool=Pool(None))
    assert (reached, status) == ([], 413)
    assert body["error"]["code"] == "payload_too_large" and body["error"]["field"] == "image"
    assert "MAX_UPLOAD_BYTES = 2000 bytes" in body["error"]["message"]
    assert headers[b"content-length"] == str(len(orjson.dumps(body))).encode()
    assert rejections("too_large") == before + 1


def test_a_full_pool_is_refused_with_503_and_retry_after() -> None:
    pool = Pool(Overloaded(retry_after=7))
    reached, status, headers, body = run("/api/batch", pool=pool)
    assert (reached, status, headers[b"retry-after"]) == ([], 503, b"7")
    assert body["error"]["code"] == "overloaded" and pool.asked == [True]  # a batch asks for a batch place


def test_a_closing_pool_is_refused_as_shutting_down() -> None:
    reached, status, headers, body = run("/api/convert", pool=Pool(PoolClosed()))
    assert (reached, status, headers[b"retry-after"], body["error"]["code"]) == ([], 503, b"1", "shutting_down")


def test_the_seed_routes_answer_in_the_original_services_shape() -> None:
    _, status, _, body = run("/api/process", length=5000, pool=Pool(None))
    assert status == 413 and body["success"] is False and "MAX_UPLOAD_BYTES" in body["error"]
    _, status, _, body = run("/api/preview", pool=Pool(Overloaded(retry_after=2)))
    assert status == 503 and body == {"success": False, "error": "The service is at capacity; retry shortly"}


@pytest.mark.parametrize(
    ("path", "method", "length", "pool"),
    [
        ("/api/convert", "POST", 10, Pool(None)),  # admissible: the handler admits for real
        ("/api/convert", "POST", None, Pool(None)),  # chunked: the handler counts the bytes
        ("/api/convert", "POST", 10, None),  # before the lifespan started the engine
        ("/api/jobs", "POST", 10**9, Pool(Overloaded(retry_after=1))),  # not a route admitted per request
        ("/api/convert", "GET", 10**9, Pool(Overloaded(retry_after=1))),
    ],
)
def test_everything_else_reaches_the_app(path: str, method: str, length: int | None, pool: Pool | None) -> None:
    reached, status, _, _ = run(path, method=method, length=length, pool=pool)
    assert (reached, status) == ([path], None)
