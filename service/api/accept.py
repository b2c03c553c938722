"""Content negotiation: which of the formats `format=auto` may choose an Accept header allows."""

from __future__ import annotations

import re

__all__ = ["accepted_formats"]

# RFC 9110's qvalue: "0" to "1" with at most three decimals (so no "nan", no "１", no "1e0").
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def accepted_formats(accept_header: str | None) -> tuple[str, ...]:
    """Formats an Accept header allows among those `auto` can choose (AVIF, WebP), q=0 excluded."""
    if not accept_header:
        return ()
    found: list[str] = []
    for part in accept_header.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key == "q":
                q = float(val) if _QVALUE.fullmatch(val.strip(" \t")) else 0.0  # no "nan", no "１"
        if q <= 0:
            continue
        media = media.strip().lower()
        if media == "image/avif":
            found.append("avif")
        elif media == "image/webp":
            found.append("webp")
    return tuple(dict.fromkeys(found))
