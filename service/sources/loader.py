"""The loader interface: a source URL's scheme picks a `Loader`, which answers what the source is
(`stat`: identity, dates, size; no content read, so a conditional request is answered without
reading it) and its bytes (`read`). Loaders are async so a remote one (http(s), S3) can fetch
without holding a thread; the file loaders run their system calls in a thread."""

from __future__ import annotations

import re
from typing import Protocol

import msgspec

from .errors import SourceUnsupported

__all__ = ["Loader", "SourceInfo", "SourceRef", "Sources", "parse_source_url", "sniff_input_type"]

_SCHEME = re.compile(r"([a-z][a-z0-9+.-]{0,15})://(.*)", re.DOTALL | re.IGNORECASE)
_LATER = frozenset({"http", "https", "s3"})


class SourceRef(msgspec.Struct, frozen=True):
    scheme: str  # local | stored | ...
    location: str  # what follows scheme:// (a path for local, the sha256 for stored)


class SourceInfo(msgspec.Struct, frozen=True):
    """What a loader knows about a source before reading it."""

    identity: str  # changes whenever the content may have: the ETag's source part
    size: int
    last_modified: float  # unix time
    immutable: bool  # content-addressed: the same name never names other bytes
    input_type: str | None = None  # when the loader knows it (stored: from the upload's probe)
    width: int | None = None
    height: int | None = None


class Loader(Protocol):
    scheme: str

    async def stat(self, location: str) -> SourceInfo:
        """The source's identity; SourceNotFound when there is none (or it is out of reach)."""
        ...

    async def read(self, location: str, info: SourceInfo) -> bytes:
        """The source's bytes as `stat` described them; SourceNotFound or SourceTooLarge."""
        ...


def parse_source_url(url: str) -> SourceRef:
    match = _SCHEME.fullmatch(url)
    if match is None:
        raise SourceUnsupported(f"The source {url[:100]!r} is not a URL (scheme://...)")
    scheme, location = match.group(1).lower(), match.group(2)
    if scheme in _LATER:
        raise SourceUnsupported(f"{scheme}:// sources are not available in this service yet")
    return SourceRef(scheme, location)


class Sources:
    """The configured loaders by scheme."""

    def __init__(self, loaders: list[Loader]) -> None:
        self._loaders = {loader.scheme: loader for loader in loaders}

    def loader_for(self, ref: SourceRef) -> Loader:
        loader = self._loaders.get(ref.scheme)
        if loader is None:
            raise SourceUnsupported(f"{ref.scheme}:// sources are not available in this service")
        return loader


_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "png"),
    (0, b"GIF8", "gif"),
    (0, b"II*\x00", "tiff"),
    (0, b"MM\x00*", "tiff"),
    (8, b"WEBP", "webp"),
    (4, b"ftyp", "heif"),  # AVIF and HEIC both load through libvips' heif loader
)


def sniff_input_type(head: bytes) -> str | None:
    """The input type (as the probe names it) from a source's first bytes: enough to pick the
    output format when the URL names none, without a trip to a worker. The worker's probe still
    decides what is accepted."""
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None
