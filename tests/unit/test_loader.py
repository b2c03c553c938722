"""service/sources/loader.py: source URLs to a loader, and the input type from a source's first bytes."""

from __future__ import annotations

import pytest

from service.sources.errors import SourceUnsupported
from service.sources.loader import SourceRef, Sources, parse_source_url, sniff_input_type
from service.sources.local import LocalLoader


def test_source_urls_name_a_scheme_and_a_location() -> None:
    assert parse_source_url("local:///a/b.jpg") == SourceRef("local", "/a/b.jpg")
    assert parse_source_url("STORED:///" + "a" * 64) == SourceRef("stored", "/" + "a" * 64)


@pytest.mark.parametrize("url", ["http://example.com/a.jpg", "https://x/y", "s3://bucket/key"])
def test_remote_sources_are_not_there_yet(url: str) -> None:
    with pytest.raises(SourceUnsupported, match="not available in this service yet") as err:
        parse_source_url(url)
    assert err.value.status == 422


def test_not_a_url_and_unknown_schemes() -> None:
    with pytest.raises(SourceUnsupported, match="not a URL"):
        parse_source_url("/etc/passwd")
    sources = Sources([LocalLoader("", 10)])
    assert sources.loader_for(SourceRef("local", "/x")).scheme == "local"
    with pytest.raises(SourceUnsupported):
        sources.loader_for(SourceRef("ftp", "/x"))


def test_sniffing() -> None:
    assert sniff_input_type(b"\xff\xd8\xff\xe0rest") == "jpeg"
    assert sniff_input_type(b"\x89PNG\r\n\x1a\nrest") == "png"
    assert sniff_input_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_input_type(b"\x00\x00\x00\x1cftypavif") == "heif"
    assert sniff_input_type(b"II*\x00") == "tiff" and sniff_input_type(b"GIF89a") == "gif"
    assert sniff_input_type(b"%PDF-1.7") is None
