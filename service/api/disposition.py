"""Content-Disposition with a file name any browser saves correctly, whatever its script."""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["content_disposition"]

_NON_ASCII = re.compile(r"[^\x20-\x7e]|[\"\\]")


def content_disposition(kind: str, filename: str) -> str:
    """`kind; filename="ascii fallback"` plus RFC 6266 `filename*` when the name is not ASCII,
    so a Korean upload `사진.jpg` comes back as `사진_800x600_q80.webp`, not `image_...`."""
    fallback = _NON_ASCII.sub("_", filename)
    if fallback == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
