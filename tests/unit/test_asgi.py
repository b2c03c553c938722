"""The plain ASGI types (service/api/asgi.py): an app written against them, messages as plain
dicts, runs inside the edge layers that are typed with them and under a real ASGI server's calls
(here litestar's TestClient, which speaks ASGI to whatever it is given)."""

from __future__ import annotations

from litestar.testing import TestClient

from service.api.asgi import ASGIApp, Message, Receive, Scope, Send
from service.api.middleware import AccessMiddleware
from service.api.security import SecurityMiddleware
from service.settings import load_settings


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        message: Message = await receive()
        while message["type"] != "lifespan.shutdown":
            await send({"type": message["type"] + ".complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": scope["path"].encode() + b" " + body})


def test_a_plain_dict_app_runs_inside_the_typed_layers() -> None:
    app: ASGIApp = AccessMiddleware(SecurityMiddleware(echo, load_settings({})))
    with TestClient(app) as client:  # type: ignore[arg-type]
        r = client.post("/anything", content=b"hello")
    assert r.status_code == 200 and r.text == "/anything hello"
    assert r.headers["x-content-type-options"] == "nosniff"  # the security layer sent its headers
