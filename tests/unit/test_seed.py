"""The original service's routes (service/api/seed.py) on the whole app with a real one-worker
pool: its multipart fields, its defaults and presets, and its answer shapes."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import msgspec
import pytest
import pyvips
from appclient import jpeg, running_app
from litestar import Litestar
from litestar.testing import TestClient

from service.api.seed import DEFAULT_QUALITY, PreviewResponse


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with running_app() as (client, _):
        yield client


def test_process_answers_an_attachment_in_the_originals_name(client: TestClient[Litestar]) -> None:
    r = client.post("/api/process", files={"image": ("a.jpg", jpeg(100, 50), "image/jpeg")}, data={"width": "40"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert (r.headers["x-image-width"], r.headers["x-image-height"]) == ("40", "20")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="image_40x20_q{DEFAULT_QUALITY}_') and disposition.endswith(
        '.jpeg"'
    )


def test_empty_fields_mean_not_given_and_the_format_is_honoured(client: TestClient[Litestar]) -> None:
    fields = {"width": "", "height": "", "quality": "", "format": "png"}
    r = client.post("/api/process", files={"image": ("a.jpg", jpeg(30, 20), "image/jpeg")}, data=fields)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert pyvips.Image.new_from_buffer(r.content, "").width == 30  # no resize, no enlargement


def test_the_mozjpeg_checkbox_changes_the_jpeg(client: TestClient[Litestar]) -> None:
    source = jpeg(160, 120)
    plain = client.post("/api/process", files={"image": ("a.jpg", source, "image/jpeg")}, data={"quality": "75"})
    preset = client.post(
        "/api/process", files={"image": ("a.jpg", source, "image/jpeg")}, data={"quality": "75", "mozjpeg": "true"}
    )
    assert plain.status_code == preset.status_code == 200
    assert plain.content != preset.content  # trellis quantisation and the rest took effect


def test_preview_answers_a_data_url_with_the_sizes(client: TestClient[Litestar]) -> None:
    source = jpeg(100, 80)
    r = client.post(
        "/api/preview", files={"image": ("a.jpg", source, "image/jpeg")}, data={"width": "50", "format": "webp"}
    )
    assert r.status_code == 200
    body = msgspec.json.decode(r.content, type=PreviewResponse)
    head, _, data = body.preview.partition(",")
    assert body.success and head == "data:image/webp;base64"
    out = base64.b64decode(data)
    assert (body.width, body.height, body.format) == (50, 40, "webp")
    assert (body.originalSize, body.processedSize) == (len(source), len(out))
    assert body.sizeReduction == len(source) - len(out)
    assert body.sizeReductionPercent == f"{(len(source) - len(out)) / len(source) * 100:.2f}"


def test_a_mistake_is_a_4xx_in_the_originals_error_shape(client: TestClient[Litestar]) -> None:
    for fields in ({"format": "auto"}, {"width": "abc"}, {"nonsense": "1"}):
        r = client.post("/api/process", files={"image": ("a.jpg", jpeg(8, 8), "image/jpeg")}, data=fields)
        assert 400 <= r.status_code < 500, fields
        body = r.json()
        assert body["success"] is False and isinstance(body["error"], str), body
