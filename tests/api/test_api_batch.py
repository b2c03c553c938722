"""POST /api/batch: every width x quality (x format), as a streamed ZIP or a JSON manifest."""

from __future__ import annotations

import base64
import itertools

import pytest
from apihelpers import decode, jpeg, loader, unzip


@pytest.fixture(scope="module")
def source() -> bytes:
    return jpeg(1200, 800)


def test_zip_holds_every_combination_at_the_right_size(client, source):
    r = client.post(
        "/api/batch",
        params={"widths": "320,640,1000", "qualities": "50,75,90", "format": "webp"},
        files={"image": ("holiday photo.jpg", source, "image/jpeg")},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert 'filename="holiday_photo_batch.zip"' in r.headers["content-disposition"]
    entries = unzip(r.content)
    expected = {
        f"holiday_photo_{w}x{round(w * 800 / 1200)}_q{q}.webp"
        for w, q in itertools.product((320, 640, 1000), (50, 75, 90))
    }
    assert set(entries) == expected
    for name, data in entries.items():
        image = decode(data)
        w, h = name.split("_")[-2].split("x")
        assert loader(data) == "webpload_buffer" and (image.width, image.height) == (int(w), int(h))
    # Within one width, a higher quality gives more bytes: the quality really reached the encoder.
    for w in (320, 640, 1000):
        sizes = [len(entries[f"holiday_photo_{w}x{round(w * 800 / 1200)}_q{q}.webp"]) for q in (50, 75, 90)]
        assert sizes == sorted(sizes) and len(set(sizes)) == 3


def test_json_manifest_with_formats_and_repeated_parameters(client, source):
    r = client.post(
        "/api/batch?widths=200&widths=400&qualities=60&formats=jpeg,avif&response=json",
        content=source,
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    manifest = r.json()
    assert manifest["original"] == {"width": 1200, "height": 800, "bytes": len(source), "format": "jpeg"}
    outputs = manifest["outputs"]
    assert {(o["width"], o["format"]) for o in outputs} == {(200, "jpeg"), (400, "jpeg"), (200, "avif"), (400, "avif")}
    for o in outputs:
        header, payload = o["data_url"].split(",", 1)
        data = base64.b64decode(payload)
        assert header == f"data:image/{o['format']};base64" and len(data) == o["bytes"]
        assert decode(data).width == o["width"] and o["quality"] == 60
        ext = {"jpeg": "jpg"}.get(o["format"], o["format"])
        assert o["name"] == f"image_{o['width']}x{o['height']}_q60.{ext}"


def test_cover_batch_crops_each_width_to_the_box(client, source):
    r = client.post(
        "/api/batch",
        params={
            "widths": "100,300",
            "height": "100",
            "fit": "cover",
            "qualities": "80",
            "format": "png",
            "response": "json",
        },
        content=source,
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    assert sorted((o["width"], o["height"]) for o in r.json()["outputs"]) == [(100, 100), (300, 100)]


def test_identical_outputs_are_not_duplicated_when_widths_exceed_the_image(client):
    small = jpeg(300, 200)
    r = client.post(
        "/api/batch",
        params={"widths": "400,800", "qualities": "80", "response": "json"},
        content=small,
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    outputs = r.json()["outputs"]
    assert {(o["width"], o["height"]) for o in outputs} == {(300, 200)}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"widths": "1,2,3,4,5,6,7", "qualities": "10,20,30,40,50,60,70,80,90,100"}, "widths"),  # 70 > 60
        ({"widths": "100,abc"}, "widths"),
        ({"qualities": "0"}, "qualities"),
        ({"formats": "jpeg,bmp"}, "formats"),
        ({"format": "auto"}, "format"),
        ({"response": "xml"}, "response"),
    ],
)
def test_bad_batch_requests_name_the_field(client, source, params, field):
    r = client.post("/api/batch", params=params, content=source, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_zip_entries_keep_non_ascii_names(client, source):
    r = client.post(
        "/api/batch", params={"widths": "100", "qualities": "50"}, files={"image": ("사진.jpg", source, "image/jpeg")}
    )
    assert r.status_code == 200, r.text
    assert set(unzip(r.content)) == {"사진_100x67_q50.jpg"}
    assert "filename*=UTF-8''%EC%82%AC%EC%A7%84_batch.zip" in r.headers["content-disposition"]
