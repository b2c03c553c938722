"""The streamed ZIP: each entry leaves as soon as it is added, and the whole is a valid archive."""

from __future__ import annotations

import io
import zipfile

from service.api.zipstream import ZipStream


def test_entries_stream_out_one_by_one_and_form_a_valid_zip():
    archive = ZipStream()
    first = archive.add("a_320x200_q75.jpg", b"A" * 1000)
    assert b"a_320x200_q75.jpg" in first and b"A" * 1000 in first  # out before the next is added
    second = archive.add("b.webp", b"\x00\x01" * 300)
    assert b"b.webp" in second and b"a_320" not in second
    tail = archive.finish()
    data = first + second + tail
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert z.namelist() == ["a_320x200_q75.jpg", "b.webp"]
        assert z.read("b.webp") == b"\x00\x01" * 300
        info = z.getinfo("a_320x200_q75.jpg")
        assert info.compress_type == zipfile.ZIP_STORED  # images are already compressed


def test_names_keep_letters_of_any_script():
    archive = ZipStream()
    data = archive.add("폭풍_320x200_q75.jpg", b"x") + archive.finish()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.namelist() == ["폭풍_320x200_q75.jpg"]


def test_an_empty_archive_is_valid():
    with zipfile.ZipFile(io.BytesIO(ZipStream().finish())) as z:
        assert z.namelist() == []
