"""Upload helpers: safe names, multipart text decoding, the boundary. Real HTTP in tests/api."""

from __future__ import annotations

import pytest
from litestar.exceptions import ClientException

from service.api.inputs import _boundary, decode_field, safe_stem
from service.imaging.errors import ImageError


@pytest.mark.parametrize(
    ("filename", "stem"),
    [
        (None, "image"),
        ("", "image"),
        ("photo.jpg", "photo"),
        ("C:\\Users\\me\\My Photo.JPG", "My_Photo"),
        ("../../etc/passwd", "passwd"),
        ("폭풍.jpg", "폭풍"),
        ("a\r\nb.jpg", "a_b"),
        ("...", "image"),
        ("x" * 500 + ".png", "x" * 64),
    ],
)
def test_safe_stem(filename, stem):
    assert safe_stem(filename) == stem


def test_text_fields_decode_in_their_charset():
    assert decode_field("width", b"300", None) == "300"
    assert decode_field("name", "é".encode("latin-1"), "latin-1") == "é"


def test_a_field_that_is_not_text_in_its_charset_is_a_400_naming_it():
    with pytest.raises(ImageError) as err:
        decode_field("width", b"\xff", None)
    assert err.value.field == "width" and "not valid utf-8" in err.value.message


def test_an_unknown_charset_is_a_400_naming_it():
    with pytest.raises(ImageError) as err:
        decode_field("width", b"300", "x-klingon")
    assert err.value.field == "width" and "x-klingon" in err.value.message


def test_an_image_sent_as_text_says_how_to_send_a_file():
    with pytest.raises(ImageError) as err:
        decode_field("image", b"\xff\xd8\xff\xe0", None)
    assert err.value.field == "image" and "-F image=@" in err.value.message


def test_boundary():
    assert _boundary("multipart/form-data; boundary=abc") == "abc"
    assert _boundary('multipart/form-data; BOUNDARY="a b;c"') == "a b;c"
    with pytest.raises(ClientException):
        _boundary("multipart/form-data")
