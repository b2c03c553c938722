"""POST /api/batch (service/api/batch.py) on the whole app with a real one-worker pool: every
output of the grid comes back decodable, named after the upload, as a ZIP or as JSON."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator

import msgspec
import pytest
import pyvips
from appclient import jpeg, running_app
from litestar import Litestar
from litestar.testing import TestClient

from service.api.batch import DESCRIPTION, BatchManifest


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with running_app() as (client, _):
        yield client


def _size(data: bytes) -> tuple[int, int, str]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height, image.get("vips-loader")


def test_a_zip_holds_every_width_and_quality_named_after_the_upload(client: TestClient[Litestar]) -> None:
    r = client.post(
        "/api/batch",
        files={"image": ("photo.jpg", jpeg(120, 90), "image/jpeg")},
        data={"widths": "60,30", "qualities": "50,90", "format": "webp"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == 'attachment; filename="photo_batch.zip"'
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"photo_{w}x{h}_q{q}.webp" for w, h in ((60, 45), (30, 22)) for q in (50, 90))
        for name in names:
            width, height, loader = _size(archive.read(name))
            assert f"_{width}x{height}_" in name and loader.startswith("webpload")


def test_json_answers_a_manifest_whose_data_urls_decode_to_what_it_says(client: TestClient[Litestar]) -> None:
    source = jpeg(100, 50)
    r = client.post(
        "/api/batch?widths=40&qualities=60&formats=jpeg,png&response=json&score=true",
        content=source,
        headers={"content-type": "image/jpeg"},
    )
    assert r.status_code == 200
    manifest = msgspec.json.decode(r.content, type=BatchManifest)
    assert (manifest.original.width, manifest.original.height, manifest.original.bytes) == (100, 50, len(source))
    assert sorted(item.format for item in manifest.outputs) == ["jpeg", "png"]
    for item in manifest.outputs:
        header, _, payload = item.data_url.partition(",")
        assert header == f"data:image/{item.format};base64"
        data = base64.b64decode(payload)
        assert len(data) == item.bytes and _size(data)[:2] == (item.width, item.height) == (40, 20)
        assert item.requested_width == 40 and item.score is not None and 0 < item.score <= 1


def test_a_grid_over_the_output_limit_is_refused_before_any_work(client: TestClient[Litestar]) -> None:
    widths = ",".join(str(w) for w in range(10, 80))
    r = client.post(f"/api/batch?widths={widths}&qualities=50,60", content=jpeg(64, 48))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_option" and error["field"] == "widths"
    assert "140" in error["received"]


def test_format_auto_is_refused_in_a_batch(client: TestClient[Litestar]) -> None:
    r = client.post("/api/batch?widths=20&format=auto", content=jpeg(64, 48))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["field"] == "format" and error["allowed"]["type"] == "choice"
    assert "auto" not in error["allowed"]["choices"]


def test_the_description_names_both_answers() -> None:
    assert "ZIP" in DESCRIPTION and "response=json" in DESCRIPTION
