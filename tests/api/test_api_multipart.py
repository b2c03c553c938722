"""Multipart bodies and numbers that used to be 500s or lenient, over real HTTP: every one is a 4xx
with a clear JSON message naming the field (issue 13, item 5 and the strict-number item)."""

from __future__ import annotations

import pytest
from apihelpers import decode, jpeg

BOUNDARY = "----contract-boundary"
IMAGE_PART = (b'Content-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg', None)


def multipart(*parts: tuple[bytes, bytes | None], image: bytes) -> bytes:
    body = b""
    for headers, content in parts:
        body += f"--{BOUNDARY}\r\n".encode() + headers + b"\r\n\r\n" + (image if content is None else content)
        body += b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def post(client, route: str, body: bytes):
    return client.post(route, content=body, headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.fixture(scope="module")
def small() -> bytes:
    return jpeg(64, 48)


ROUTES = ["/api/convert", "/api/batch", "/api/process", "/api/preview"]


def _message(r) -> str:
    body = r.json()
    return body["error"] if isinstance(body["error"], str) else body["error"]["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_text_field_that_is_not_utf8_is_a_400_naming_it(client, small, route):
    r = post(
        client, route, multipart(IMAGE_PART, (b'Content-Disposition: form-data; name="width"', b"\xff"), image=small)
    )
    assert r.status_code == 400, r.text
    assert "'width' is not valid utf-8 text" in _message(r)
    if route in ("/api/convert", "/api/batch"):
        assert r.json()["error"]["field"] == "width"


@pytest.mark.parametrize("route", ROUTES)
def test_a_field_naming_an_unknown_charset_is_a_400(client, small, route):
    field = (b'Content-Disposition: form-data; name="width"\r\nContent-Type: text/plain; charset=x-klingon', b"100")
    r = post(client, route, multipart(IMAGE_PART, field, image=small))
    assert r.status_code == 400, r.text
    assert "unknown charset 'x-klingon'" in _message(r)


def test_a_field_in_a_known_charset_is_read(client, small):
    field = (b'Content-Disposition: form-data; name="width"\r\nContent-Type: text/plain; charset=latin-1', b"32")
    r = post(client, "/api/convert", multipart(IMAGE_PART, field, image=small))
    assert r.status_code == 200, r.text
    assert decode(r.content).width == 32


@pytest.mark.parametrize("route", ROUTES)
def test_an_image_sent_as_a_text_field_says_how_to_send_a_file(client, small, route):
    """curl -F 'image=<photo.jpg' sends the bytes as text: no filename."""
    r = post(client, route, multipart((b'Content-Disposition: form-data; name="image"', None), image=small))
    assert r.status_code == 400, r.text
    assert "sent as a text field" in _message(r) and "image=@" in _message(r)


def test_valid_utf8_text_in_the_image_field_is_refused_the_same_way(client):
    r = post(client, "/api/convert", multipart((b'Content-Disposition: form-data; name="image"', b"hello"), image=b""))
    assert r.status_code == 400 and r.json()["error"]["field"] == "image"


@pytest.mark.parametrize("route", ROUTES)
def test_cr_lf_inside_a_quoted_filename_is_a_400(client, small, route):
    part = (b'Content-Disposition: form-data; name="image"; filename="a\r\nb.jpg"\r\nContent-Type: image/jpeg', None)
    r = post(client, route, multipart(part, image=small))
    assert r.status_code == 400, r.text
    assert "Invalid multipart/form-data" in _message(r)


def test_a_percent_encoded_cr_lf_in_a_filename_is_made_safe(client, small):
    """What curl sends for such a name: accepted, and the answer's file name has no line break."""
    part = (b'Content-Disposition: form-data; name="image"; filename="a%0D%0Ab.jpg"\r\nContent-Type: image/jpeg', None)
    r = post(client, "/api/convert", multipart(part, image=small))
    assert r.status_code == 200, r.text
    assert "\r" not in r.headers["content-disposition"] and "\n" not in r.headers["content-disposition"]


def test_header_bytes_that_are_not_utf8_are_a_400(client, small):
    part = (b'Content-Disposition: form-data; name="image"; filename="\xff\xfe.jpg"\r\nContent-Type: image/jpeg', None)
    r = post(client, "/api/convert", multipart(part, image=small))
    assert r.status_code == 400 and "part headers must be UTF-8" in r.json()["error"]["message"]


def test_a_body_cut_short_is_a_400(client, small):
    body = multipart(IMAGE_PART, image=small)
    r = post(client, "/api/convert", body[: len(body) // 2])
    assert r.status_code == 400, r.text


def test_more_parts_than_the_limit_is_a_clear_413(client, small):
    fields = [(f'Content-Disposition: form-data; name="f{i}"'.encode(), b"1") for i in range(1001)]
    r = post(client, "/api/convert", multipart(IMAGE_PART, *fields, image=small))
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "too_many_parts"
    assert r.json()["error"]["message"] == "The multipart form has more than 1000 parts"


@pytest.mark.parametrize("value", ["٣٠٠", "１００", "3_00", "3e2", "30.0"])
def test_numbers_are_ascii_digits_only_on_every_route(client, small, value):
    for route, params in (
        ("/api/convert", {"width": value}),
        ("/api/batch", {"widths": f"32,{value}"}),
        ("/api/batch", {"width": value}),
        ("/api/process", {"width": value}),
    ):
        r = client.post(route, files={"image": ("a.jpg", small, "image/jpeg")}, data=params)
        assert r.status_code == 400, (route, params, r.text)
        assert value in _message(r), (route, r.text)


def test_a_huge_field_is_not_echoed_back(client, small):
    r = client.post("/api/convert", files={"image": ("a.jpg", small, "image/jpeg")}, data={"width": "9" * 3_000_000})
    assert r.status_code == 400
    error = r.json()["error"]
    assert len(r.content) < 1000 and error["received"].endswith("... (3000000 characters)")
