"""/schema without the internet (service/api/docs_ui.py): Swagger UI's page points at our own asset
route, which serves the wheel's files with their types and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.testing import TestClient

from service.api.docs_ui import ASSETS_PATH, docs_asset, render_plugin


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    config = OpenAPIConfig(title="t", version="1", path="/schema", render_plugins=[render_plugin()])
    with TestClient(Litestar([docs_asset], openapi_config=config)) as client:
        yield client


def test_the_page_loads_its_scripts_and_styles_from_our_route(client: TestClient[Litestar]) -> None:
    page = client.get("/schema").text
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"{ASSETS_PATH}/{name}" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()


@pytest.mark.parametrize(
    ("name", "media_type", "starts"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8", b""),
        ("swagger-ui.css", "text/css; charset=utf-8", b""),
        ("favicon-32x32.png", "image/png", b"\x89PNG"),
        ("LICENSE", "text/plain; charset=utf-8", b""),
    ],
)
def test_each_asset_is_served_with_its_type_and_cached(
    client: TestClient[Litestar], name: str, media_type: str, starts: bytes
) -> None:
    r = client.get(f"{ASSETS_PATH}/{name}")
    assert r.status_code == 200 and r.headers["content-type"] == media_type
    assert r.headers["cache-control"] == "public, max-age=86400"
    assert len(r.content) > 100 and r.content.startswith(starts)


def test_the_license_is_apaches(client: TestClient[Litestar]) -> None:
    assert "Apache License" in client.get(f"{ASSETS_PATH}/LICENSE").text


@pytest.mark.parametrize("name", ["index.html", "..%2F__init__.py", "swagger-ui-bundle.js.map"])
def test_nothing_else_is_served(client: TestClient[Litestar], name: str) -> None:
    assert client.get(f"{ASSETS_PATH}/{name}").status_code == 404
