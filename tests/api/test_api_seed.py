"""The original Node service's routes answer its shapes, so its clients keep working."""

from __future__ import annotations

import base64
import re

from apihelpers import decode, jpeg, loader

FLAGS = {
    "progressive": "true",
    "optimizeScans": "true",
    "trellisQuantisation": "true",
    "overshootDeringing": "true",
    "optimizeCoding": "true",
    "mozjpeg": "false",
}


def test_process_answers_an_attachment_named_like_the_original(client):
    r = client.post(
        "/api/process",
        files={"image": ("a.jpg", jpeg(800, 600), "image/jpeg")},
        data={"width": "400", "height": "", "quality": "70", "format": "jpeg", **FLAGS},
    )
    assert r.status_code == 200, r.text
    assert re.fullmatch(r'attachment; filename="image_400x300_q70_\d{13}\.jpeg"', r.headers["content-disposition"])
    assert r.content[:3] == b"\xff\xd8\xff" and b"\xff\xc2" in r.content  # progressive JPEG
    assert (decode(r.content).width, decode(r.content).height) == (400, 300)


def test_process_flags_reach_the_encoder(client):
    source = jpeg(640, 480)
    fields = {"width": "640", "quality": "75", "format": "jpeg"}
    plain = client.post("/api/process", files={"image": ("a.jpg", source, "image/jpeg")}, data=fields).content
    moz = client.post(
        "/api/process", files={"image": ("a.jpg", source, "image/jpeg")}, data={**fields, "mozjpeg": "true"}
    ).content
    assert len(moz) < len(plain)


def test_preview_answers_the_original_json_shape(client):
    source = jpeg(1000, 500)
    r = client.post(
        "/api/preview",
        files={"image": ("a.jpg", source, "image/jpeg")},
        data={"width": "2000", "quality": "60", "format": "webp"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True
    header, payload = body["preview"].split(",", 1)
    data = base64.b64decode(payload)
    assert header == "data:image/webp;base64" and loader(data) == "webpload_buffer"
    assert decode(data).width == 1000  # fit inside, never enlarged
    assert body["originalSize"] == len(source) and body["processedSize"] == len(data)
    assert body["sizeReduction"] == len(source) - len(data)
    assert body["sizeReductionPercent"] == f"{(len(source) - len(data)) / len(source) * 100:.2f}"


def test_seed_errors_are_the_original_shape_with_a_client_status(client):
    r = client.post("/api/preview", files={"image": ("a.txt", b"not an image", "text/plain")}, data={"format": "png"})
    assert r.status_code == 415
    assert r.json()["success"] is False and "image" in r.json()["error"]
    r = client.post("/api/process", files={"image": ("a.jpg", jpeg(64, 64), "image/jpeg")}, data={"format": "bmp"})
    assert r.status_code == 400
    assert r.json()["success"] is False and "bmp" in r.json()["error"]
    r = client.post("/api/process", data={"format": "png"})
    assert r.status_code in (400, 415) and r.json()["success"] is False
