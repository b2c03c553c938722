"""An /img path taken apart as imgproxy documents it:

    /{signature}/{option}/{option}/.../plain/{percent-encoded source URL}[@{extension}]
    /{signature}/{option}/{option}/.../{base64url source URL, split by / as desired}[.{extension}]

`split_signature` comes first and decodes nothing: the signature covers the rest of the path
exactly as the client sent it. Only once it is verified does `parse_img_path` decode the options
part and the source. No web imports.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

import msgspec

from .errors import MalformedUrl

__all__ = ["ImgPath", "parse_img_path", "split_signature"]

MAX_SOURCE_URL = 4096  # characters of a decoded source URL


class ImgPath(msgspec.Struct, frozen=True):
    options: tuple[str, ...]  # the option segments, undecoded (each argument is decoded by its parser)
    source: str  # the source URL, decoded
    extension: str | None  # after @ (plain) or the last . (base64), lowercased; None when absent


def split_signature(path: str) -> tuple[str, str]:
    """`/{signature}/{rest}` -> (signature, "/{rest}"): what the signature must sign."""
    if not path.startswith("/"):
        path = "/" + path
    signature, sep, rest = path[1:].partition("/")
    if not sep or not rest:
        raise MalformedUrl("source", "Expected /img/{signature}/{processing options}/{source} but the path ends early")
    return signature, "/" + rest


def _plain(parts: list[str]) -> tuple[str, str | None]:
    joined = "/".join(parts)
    url, at, extension = joined.rpartition("@")
    if not at:  # no extension: rpartition put everything after the separator
        url, extension = joined, ""
    return unquote(url), extension or None


def _encoded(parts: list[str]) -> tuple[str, str | None]:
    joined = "".join(parts)
    encoded, dot, extension = joined.partition(".")
    try:
        url = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedUrl(
            "source",
            "The source is neither plain/{percent-encoded URL} nor a URL-safe base64 URL: "
            f"{encoded[:40]!r} does not decode",
        ) from None
    return url, (extension or None) if dot else None


def parse_img_path(signed: str, *, only_presets: bool = False) -> ImgPath:
    """The part after the signature ("/rs:fill:300:400/plain/local:///a.jpg@webp") taken apart.
    Options are the segments up to the source: a segment without `:` (or `plain`) starts it; in
    presets-only mode the first segment is the presets list."""
    segments = signed.lstrip("/").split("/")
    options: list[str] = []
    index = 0
    if only_presets:
        options, index = [segments[0]], 1
    while index < len(segments) and ":" in segments[index] and segments[index] != "plain":
        options.append(segments[index])
        index += 1
    rest = segments[index:]
    if not rest or rest == [""]:
        raise MalformedUrl("source", "The URL names no source after its processing options")
    if rest[0] == "plain":
        url, extension = _plain(rest[1:])
    else:
        url, extension = _encoded(rest)
    if not url or len(url) > MAX_SOURCE_URL:
        raise MalformedUrl("source", f"The source URL must be 1 to {MAX_SOURCE_URL} characters")
    return ImgPath(tuple(options), url, extension.lower() if extension else None)
