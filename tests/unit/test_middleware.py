"""The access layer (service/api/middleware.py) driven as plain ASGI: the route label, one counted
and timed request per answer, a log line for everything but the probes, 499 for a client that left
before an answer the app then failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from prometheus_client import REGISTRY

from service.api.asgi import Message, Receive, Scope, Send
from service.api.middleware import AccessMiddleware, route_label


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/api/convert", "/api/convert"),
        ("/api/batch", "/api/batch"),
        ("/health", "/health"),
        ("/static/js/app.js", "/static"),
        ("/schema/openapi.json", "/schema"),
        ("/api/jobs/0123abcd/archive", "/api/jobs"),
        ("/wp-admin.php", "other"),
        ("/api/convert/extra", "other"),
    ],
)
def test_route_labels_stay_few(path: str, label: str) -> None:
    assert route_label(path) == label


def requests(route: str, status: str) -> float:
    labels = {"route": route, "method": "POST", "status": status}
    return REGISTRY.get_sample_value("imageconv_http_requests_total", labels) or 0.0


def call(app: object, path: str, incoming: list[Message]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": path, "headers": []}
    with pytest.raises(RuntimeError) if path.endswith("fail") else contextlib.nullcontext():
        asyncio.run(AccessMiddleware(app)(scope, receive, send))  # type: ignore[arg-type]
    return sent


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"12345", "more_body": True})
    await send({"type": "http.response.body", "body": b"678"})


def test_an_answer_is_counted_timed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    before = requests("/api/convert", "201")
    with caplog.at_level(logging.INFO, logger="service.access"):
        sent = call(answer, "/api/convert", [{"type": "http.request", "body": b"x"}])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert requests("/api/convert", "201") == before + 1
    (line,) = [r for r in caplog.records if r.name == "service.access"]
    assert (line.method, line.path, line.route, line.status, line.bytes_out) == (  # type: ignore[attr-defined]
        "POST",
        "/api/convert",
        "/api/convert",
        201,
        8,
    )
    assert line.duration_ms >= 0  # type: ignore[attr-defined]


def test_probes_are_counted_but_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    before = requests("/health", "201")
    with caplog.at_level(logging.INFO, logger="service.access"):
        call(answer, "/health", [{"type": "http.request", "body": b""}])
    assert requests("/health", "201") == before + 1
    assert not [r for r in caplog.records if r.name == "service.access"]


def test_a_failure_after_the_client_left_is_a_499_not_a_500() -> None:
    async def gone_then_fail(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # the disconnect, before any answer
        raise RuntimeError("the upload was cut")

    before_499, before_500 = requests("other", "499"), requests("other", "500")
    call(gone_then_fail, "/x/fail", [{"type": "http.disconnect"}])
    assert (requests("other", "499"), requests("other", "500")) == (before_499 + 1, before_500)


def test_a_failure_with_the_client_still_there_is_a_500() -> None:
    async def fail(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise RuntimeError("a bug")

    before = requests("other", "500")
    call(fail, "/y/fail", [{"type": "http.request", "body": b""}])
    assert requests("other", "500") == before + 1


def test_other_scopes_pass_through_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {}

    async def drop(message: Message) -> None:
        return None

    asyncio.run(AccessMiddleware(app)({"type": "lifespan"}, nothing, drop))
    assert seen == ["lifespan"]
