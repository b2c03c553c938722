"""The layers around the app (service/api/edge.py), in their order: answers the router gives on its
own (404, 405) are logged and counted by the access layer and carry the security layer's headers,
and an oversized upload is refused by early admission before the app sees it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from appclient import running_app
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from service.api.admission import EarlyAdmissionMiddleware
from service.api.edge import edge
from service.api.middleware import AccessMiddleware
from service.api.security import SecurityMiddleware
from service.settings import load_settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with running_app({"MAX_UPLOAD_BYTES": "2048"}) as (client, _):
        yield client


def counted(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("imageconv_http_requests_total", labels) or 0.0


def test_the_layers_wrap_the_app_outermost_first() -> None:
    app = Litestar()
    outer = edge(app, load_settings({}))
    assert isinstance(outer, AccessMiddleware)
    security = outer.app
    assert isinstance(security, SecurityMiddleware)
    admission = security.app
    assert isinstance(admission, EarlyAdmissionMiddleware) and admission.app is app


def test_the_routers_own_404_is_counted_and_carries_the_security_headers(client: TestClient[Litestar]) -> None:
    before = counted("other", "GET", "404")
    r = client.get("/no/such/route")
    assert r.status_code == 404
    assert r.headers["x-content-type-options"] == "nosniff" and "content-security-policy" in r.headers
    assert counted("other", "GET", "404") == before + 1


def test_a_wrong_method_is_counted_as_405(client: TestClient[Litestar]) -> None:
    before = counted("/api/convert", "GET", "405")
    assert client.get("/api/convert").status_code == 405
    assert counted("/api/convert", "GET", "405") == before + 1


def test_an_oversized_upload_is_refused_at_the_edge_with_the_security_headers(client: TestClient[Litestar]) -> None:
    before = counted("/api/convert", "POST", "413")
    r = client.post("/api/convert", content=b"\xff\xd8" + bytes(5000), headers={"content-type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert r.headers["x-frame-options"] == "DENY"
    assert counted("/api/convert", "POST", "413") == before + 1
