"""POST /api/convert (service/api/convert.py) on the whole app with a real one-worker pool: the
answer is the converted image, and its headers say what was made, from what, under which name."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest
import pyvips
from appclient import jpeg, running_app
from litestar import Litestar
from litestar.testing import TestClient

from service.api.convert import DESCRIPTION


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with running_app() as (client, _):
        yield client


def test_a_raw_body_comes_back_converted_with_its_sizes(client: TestClient[Litestar]) -> None:
    source = jpeg(64, 48)
    r = client.post("/api/convert?width=32&format=png", content=source, headers={"content-type": "image/jpeg"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    out = pyvips.Image.new_from_buffer(r.content, "")
    assert (out.width, out.height) == (32, 24)
    assert (r.headers["x-image-width"], r.headers["x-image-height"]) == ("32", "24")
    assert (r.headers["x-input-width"], r.headers["x-input-height"]) == ("64", "48")
    assert r.headers["x-input-bytes"] == str(len(source))
    assert r.headers["content-disposition"] == 'inline; filename="image_32x24.png"'
    assert "x-quality" not in r.headers and "x-encode-attempts" not in r.headers and "vary" not in r.headers


def test_a_multipart_upload_names_the_output_after_it(client: TestClient[Litestar]) -> None:
    r = client.post(
        "/api/convert",
        files={"image": ("사진.jpg", jpeg(80, 60), "image/jpeg")},
        data={"width": "40", "format": "webp", "quality": "70"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert r.headers["x-quality"] == "70"
    encoded = r.headers["content-disposition"].split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "사진_40x30_q70.webp"


def test_a_search_names_the_quality_it_found_and_its_encodes(client: TestClient[Litestar]) -> None:
    source = jpeg(200, 150)
    r = client.post(
        "/api/convert?format=jpeg&max_bytes=1500&score=true", content=source, headers={"content-type": "image/jpeg"}
    )
    assert r.status_code == 200 and len(r.content) <= 1500
    quality = int(r.headers["x-quality"])
    assert int(r.headers["x-encode-attempts"]) >= 1 and 0 < float(r.headers["x-quality-score"]) <= 1
    assert r.headers["content-disposition"] == f'inline; filename="image_200x150_q{quality}.jpg"'


def test_format_auto_follows_accept_and_says_it_varies(client: TestClient[Litestar]) -> None:
    r = client.post(
        "/api/convert?format=auto&width=32",
        content=jpeg(64, 48),
        headers={"content-type": "image/jpeg", "accept": "image/webp,*/*"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp" and r.headers["vary"] == "Accept"


def test_a_bad_option_is_named_and_nothing_is_converted(client: TestClient[Litestar]) -> None:
    r = client.post("/api/convert?width=abc", content=jpeg(8, 8), headers={"content-type": "image/jpeg"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["field"] == "width" and error["received"] == "abc"


def test_the_route_is_documented_by_its_module(client: TestClient[Litestar]) -> None:
    operation = client.get("/schema/openapi.json").json()["paths"]["/api/convert"]["post"]
    assert operation["description"] == DESCRIPTION and operation["operationId"] == "convert"
