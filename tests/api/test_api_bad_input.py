"""Bad input: a JSON error naming what was wrong, the right 4xx status, never a 500."""

from __future__ import annotations

import time

import pytest
from apihelpers import jpeg, png_declaring, thin_png

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'  # noqa: E501
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # noqa: E501
MATRIX = b"2 2\n1 2\n3 4\n"
PPM = b"P6\n2 2\n255\n" + bytes(12)


def post(client, data: bytes, content_type: str = "image/jpeg", **params):
    return client.post("/api/convert", params=params, content=data, headers={"Content-Type": content_type})


def error_of(r) -> dict:
    assert r.headers["content-type"].startswith("application/json"), r.text
    body = r.json()["error"]
    assert body["status"] == r.status_code and body["message"]
    return body


def test_body_over_the_upload_limit_is_413(client):
    r = post(client, b"\xff\xd8" + bytes(4_100_000))  # the test service allows 4 MB
    assert r.status_code == 413
    body = error_of(r)
    assert "MAX_UPLOAD_BYTES" in body["message"] and body["field"] == "image"


def test_multipart_over_the_upload_limit_is_413(client):
    r = client.post("/api/convert", files={"image": ("big.jpg", bytes(4_100_000), "image/jpeg")})
    assert r.status_code == 413
    error_of(r)


def test_a_tiny_file_declaring_a_huge_image_is_refused_from_its_header(client):
    bomb = png_declaring(100_000, 100_000)
    assert len(bomb) < 200
    r = post(client, bomb, "image/png")
    assert r.status_code == 422
    body = error_of(r)
    assert "100000x100000" in body["message"] and "pixel" in body["message"].lower()


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"hello, I am text", "text"),
        (SVG, "svg"),
        (PDF, "pdf"),
        (MATRIX, "matrix"),
        (PPM, "ppm"),
        (b"", "empty"),
    ],
)
def test_not_an_accepted_image_is_415(client, data, what):
    r = post(client, data)
    assert r.status_code == 415, (what, r.text)
    assert error_of(r)["field"] == "image"


def test_svg_sent_as_svg_is_refused_and_says_which_types_are_accepted(client):
    r = post(client, SVG, "image/svg+xml")
    assert r.status_code == 415
    assert "JPEG" in error_of(r)["message"]


def test_truncated_jpeg_is_422_with_a_reason(client):
    data = jpeg(800, 600)
    r = post(client, data[: len(data) // 2], width=100)
    assert r.status_code == 422, r.text
    assert "decoded" in error_of(r)["message"]


def test_wrong_content_type_is_415(client):
    r = client.post("/api/convert", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    error_of(r)


@pytest.mark.parametrize(
    ("params", "field", "allowed"),
    [
        ({"colour": "red"}, "colour", None),
        ({"quality": "101"}, "quality", {"type": "integer", "minimum": 1, "maximum": 100}),
        ({"quality": "high"}, "quality", {"type": "integer", "minimum": 1, "maximum": 100}),
        ({"width": "0"}, "width", {"type": "integer", "minimum": 1, "maximum": 16383}),
        ({"width": "20000"}, "width", {"type": "integer", "minimum": 1, "maximum": 16383}),
        ({"fit": "stretch"}, "fit", {"type": "choice", "choices": ["inside", "cover", "contain", "fill", "outside"]}),
        ({"format": "bmp"}, "format", {"type": "choice", "choices": ["jpeg", "png", "webp", "avif", "tiff", "auto"]}),
        ({"progressive": "maybe"}, "progressive", {"type": "boolean"}),
        ({"quant_table": "9", "format": "jpeg"}, "quant_table", {"type": "integer", "minimum": 0, "maximum": 8}),
        ({"compression": "10", "format": "png"}, "compression", {"type": "integer", "minimum": 0, "maximum": 9}),
        (
            {"compression": "lzma", "format": "tiff"},
            "compression",
            {"type": "choice", "choices": ["none", "lzw", "deflate", "jpeg", "zstd"]},
        ),
        ({"effort": "7", "format": "webp"}, "effort", {"type": "integer", "minimum": 0, "maximum": 6}),
        ({"bitdepth": "9", "format": "avif"}, "bitdepth", {"type": "integer", "choices": [8, 10, 12]}),
        (
            {"palette": "true", "format": "jpeg"},
            "palette",
            {"type": "requires", "option": "format", "choices": ["png"]},
        ),
    ],
)
def test_bad_options_are_400_naming_field_allowed_and_received(client, params, field, allowed):
    r = post(client, jpeg(64, 64), **params)
    assert r.status_code == 400, r.text
    body = error_of(r)
    assert body["field"] == field and body["code"] == "invalid_option"
    assert params[field] in body["message"]
    if allowed:
        assert body["allowed"] == allowed
    else:  # an unknown option: the known ones are allowed
        assert body["allowed"]["type"] == "option" and "quality" in body["allowed"]["choices"]


def test_unknown_route_and_method_are_json_4xx(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = client.get("/api/convert")
    assert r.status_code == 405 and error_of(r)


def test_no_request_in_this_suite_got_a_500(client):
    """Runs after the others in this module: the service's own counter shows no 5xx for bad input."""
    text = client.get("/metrics").text
    assert 'status="500"' not in text
    assert 'imageconv_rejections_total{reason="bad_input"}' in text


@pytest.fixture(scope="module")
def tall() -> bytes:
    return thin_png(49_000_000)  # 95 KB, real and complete: its decode would hold a worker 25 s


@pytest.mark.parametrize("route", ["/api/convert", "/api/jobs"])
def test_a_1_by_49_million_png_is_refused_from_its_header_within_a_second(client, tall, route):
    started = time.monotonic()
    r = client.post(route, params={"width": "200"}, content=tall, headers={"Content-Type": "image/png"})
    assert time.monotonic() - started < 1.0
    assert r.status_code == 422
    body = error_of(r)
    assert body["code"] == "unprocessable" and body["field"] == "image"
    assert "1x49000000" in body["message"] and "MAX_INPUT_DIMENSION" in body["message"]
