"""Content-Disposition (service/api/disposition.py): an ASCII name as it is, any other name with an
ASCII fallback and its RFC 6266 UTF-8 form, quotes and backslashes never inside the quotes."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from service.api.disposition import content_disposition


def test_an_ascii_name_is_written_as_it_is() -> None:
    assert content_disposition("inline", "photo_320x200_q80.webp") == 'inline; filename="photo_320x200_q80.webp"'


@pytest.mark.parametrize("name", ["사진_800x600_q80.webp", "café.jpg", 'say "hi".png', "back\\slash.png", "tab\t.png"])
def test_any_other_name_gets_a_fallback_and_its_utf8_form(name: str) -> None:
    header = content_disposition("attachment", name)
    kind, fallback, encoded = header.split("; ")
    assert kind == "attachment"
    ascii_name = fallback.removeprefix('filename="').removesuffix('"')
    assert len(ascii_name) == len(name) and ascii_name.isascii()
    assert '"' not in ascii_name and "\\" not in ascii_name and "\t" not in ascii_name
    assert encoded.startswith("filename*=UTF-8''") and unquote(encoded.removeprefix("filename*=UTF-8''")) == name
    assert header.isascii()
