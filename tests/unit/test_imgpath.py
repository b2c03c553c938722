"""service/imgurl/imgpath.py: an /img path taken apart as imgproxy documents it."""

from __future__ import annotations

import base64

import pytest

from service.imgurl.errors import MalformedUrl
from service.imgurl.imgpath import ImgPath, parse_img_path, split_signature

DOC_PATH = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"


def test_split_signature_decodes_nothing() -> None:
    assert split_signature("/sig/rs:fit:1:2/plain/local:///a%20b.jpg") == (
        "sig",
        "/rs:fit:1:2/plain/local:///a%20b.jpg",
    )
    assert split_signature("sig/x") == ("sig", "/x")
    for short in ("/", "/sig", "/sig/", ""):
        with pytest.raises(MalformedUrl):
            split_signature(short)


def test_the_documented_base64_example() -> None:
    assert parse_img_path(DOC_PATH) == ImgPath(
        ("rs:fill:300:400:0", "g:sm"), "http://example.com/images/curiosity.jpg", "png"
    )


def test_base64_without_extension_and_unsplit() -> None:
    encoded = base64.urlsafe_b64encode(b"stored:///" + b"a" * 64).rstrip(b"=").decode()
    assert parse_img_path(f"/w:10/{encoded}") == ImgPath(("w:10",), "stored:///" + "a" * 64, None)


def test_plain_source_is_percent_decoded_after_the_extension_is_split() -> None:
    parsed = parse_img_path("/q:80/plain/local:///photos/caf%C3%A9%40home.jpg@WEBP")
    assert parsed == ImgPath(("q:80",), "local:///photos/café@home.jpg", "webp")
    assert parse_img_path("/plain/local:///a.jpg").extension is None
    assert parse_img_path("/plain/local:///a.jpg").options == ()


def test_presets_only_mode_takes_the_first_segment_as_presets() -> None:
    parsed = parse_img_path("/thumb/plain/local:///a.jpg", only_presets=True)
    assert parsed.options == ("thumb",)
    assert parsed.source == "local:///a.jpg"


@pytest.mark.parametrize("path", ["/rs:fit:1:1", "/rs:fit:1:1/", "/plain/", "/w:1/@@@@", "/w:1/" + "QQ" * 3000])
def test_malformed_sources_name_the_source(path: str) -> None:
    with pytest.raises(MalformedUrl) as err:
        parse_img_path(path)
    assert err.value.field == "source" and err.value.status == 422
