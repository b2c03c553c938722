"""Multipart uploads read straight into memory (service/api/inputs.py): fields, files, and
malformed bodies answered with a JSON 400, never a 500."""

from __future__ import annotations

import pytest
from apihelpers import decode, jpeg


def _body(parts: list[tuple[str, str | None, bytes]], boundary: str = "XyZ", close: bool = True) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + (f"--{boundary}--\r\n".encode() if close else b"")


def _post(client, body: bytes, boundary: str = "XyZ"):
    return client.post(
        "/api/convert", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )


def test_file_and_fields_in_any_order(client):
    data = jpeg(640, 480)
    body = _body([("width", None, b"200"), ("image", "a.jpg", data), ("format", None, b"png")])
    r = _post(client, body)
    assert r.status_code == 200, r.text
    assert decode(r.content).width == 200 and r.headers["content-type"] == "image/png"
    assert 'filename="a_200x150.png"' in r.headers["content-disposition"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_body([("image", "a.jpg", b"\xff\xd8\xff")], close=False), 400, None),  # cut before the closing boundary
        (b"this is not multipart at all", 400, None),
        (_body([("width", None, b"200")]), 415, "image"),  # no file
        (_body([("photo", "a.jpg", b"\xff\xd8")]), 400, "photo"),  # a file in another field
    ],
)
def test_malformed_bodies_are_json_errors(client, body, status, field):
    r = _post(client, body)
    assert r.status_code == status, r.text
    assert r.json()["error"].get("field") == field


def test_missing_boundary_is_a_400(client):
    r = client.post("/api/convert", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400, r.text
