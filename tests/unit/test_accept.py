"""Content negotiation (service/api/accept.py): the formats `format=auto` may choose, from an Accept header."""

from __future__ import annotations

import pytest

from service.api.accept import accepted_formats


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ()),
        ("*/*", ()),
        ("image/avif,image/webp", ("avif", "webp")),
        ("image/webp;q=0.9, image/avif;q=0", ("webp",)),
        ("image/avif;q=nan, image/webp;q=１", ()),
        ("IMAGE/AVIF", ("avif",)),
    ],
)
def test_accept_parsing(header, expected):
    assert accepted_formats(header) == expected
