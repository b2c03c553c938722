"""`stored:///<sha256>`: an upload kept by POST /api/sources, named by the SHA-256 of its bytes.

Kept under SOURCES_DIR (shared by every replica, e.g. EFS) as `<2 hex>/<sha256>` with its
description beside it (`<sha256>.json`: size, probed width/height/type, expiry), both written
atomically (files.py), the description last, so a reader that finds it finds the bytes. The same
bytes uploaded again are stored once and their expiry renewed. Sources expire SOURCE_TTL_SECONDS
after their last upload; `sweep` removes expired ones. New sources are refused once the counted directory (STORAGE_DIR,
when the sources are kept inside it) holds MAX_STORAGE_BYTES.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import time

import msgspec

from ..files import TEMP_PREFIX, atomic_write
from .errors import SourceNotFound, SourceStorageFull
from .loader import SourceInfo

__all__ = ["SourceStore", "StoredLoader", "StoredSource", "source_url"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


class StoredSource(msgspec.Struct, frozen=True):
    """A stored source's description (its .json file), and what POST /api/sources answers."""

    source: str  # the reference to put in /img URLs: stored:///<sha256>
    sha256: str
    bytes: int
    width: int  # upright
    height: int
    format: str  # the input type the probe found
    stored_at: float  # unix time of the first upload (the bytes never change under their name)
    expires_at: float  # SOURCE_TTL_SECONDS after the last upload


def source_url(sha256: str) -> str:
    return f"stored:///{sha256}"


class SourceStore:
    def __init__(self, root: str, ttl_seconds: float, max_bytes: int, counted: str | None = None) -> None:
        self.root = root
        self.swept_at = 0.0  # when this replica last swept (sweep_if_due)
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        # What MAX_STORAGE_BYTES bounds: the whole STORAGE_DIR when the sources are inside it.
        self.counted = counted or root

    def ensure(self) -> None:
        os.makedirs(self.root, exist_ok=True)

    def _paths(self, sha256: str) -> tuple[str, str]:
        directory = os.path.join(self.root, sha256[:2])
        return os.path.join(directory, sha256), os.path.join(directory, sha256 + ".json")

    def put(self, data: bytes, width: int, height: int, input_type: str, now: float | None = None) -> StoredSource:
        """Store `data` (already probed) or renew it when it is stored; SourceStorageFull beyond the cap."""
        now = time.time() if now is None else now
        sha256 = hashlib.sha256(data).hexdigest()
        blob, meta = self._paths(sha256)
        existing = os.path.exists(blob)
        if not existing:
            used = self.bytes_stored()
            if used + len(data) > self.max_bytes:
                raise SourceStorageFull(used, self.max_bytes)
        first = now
        if existing:
            with contextlib.suppress(SourceNotFound):
                first = self.describe(sha256, now).stored_at
        stored = StoredSource(
            source_url(sha256), sha256, len(data), width, height, input_type, first, now + self.ttl_seconds
        )
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        if not existing:
            atomic_write(blob, data)
        atomic_write(meta, msgspec.json.encode(stored))
        return stored

    def describe(self, sha256: str, now: float | None = None) -> StoredSource:
        """A live source's description; SourceNotFound when it is not stored or has expired."""
        if not _SHA256.fullmatch(sha256):
            raise SourceNotFound()
        _, meta = self._paths(sha256)
        try:
            with open(meta, "rb") as f:
                stored = msgspec.json.decode(f.read(), type=StoredSource)
        except (OSError, msgspec.DecodeError):
            raise SourceNotFound() from None
        if stored.expires_at <= (time.time() if now is None else now):
            raise SourceNotFound()
        return stored

    def read(self, sha256: str) -> bytes:
        blob, _ = self._paths(sha256)
        try:
            with open(blob, "rb") as f:
                return f.read()
        except OSError:
            raise SourceNotFound() from None

    def _entries(self) -> list[os.DirEntry[str]]:
        entries: list[os.DirEntry[str]] = []
        with contextlib.suppress(FileNotFoundError):
            for directory in os.scandir(self.root):
                if directory.is_dir() and len(directory.name) == 2:
                    entries.extend(e for e in os.scandir(directory.path) if not e.name.startswith(TEMP_PREFIX))
        return entries

    def bytes_stored(self) -> int:
        """Bytes under the counted directory (every file, at any depth)."""
        total = 0
        stack = [self.counted]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_size
        return total

    def sweep_if_due(self, now: float, interval: float) -> int:
        """Sweep at most once per `interval` seconds (uploads call it; any replica may remove)."""
        if now - self.swept_at < interval:
            return 0
        self.swept_at = now
        return self.sweep(now)

    def sweep(self, now: float | None = None) -> int:
        """Remove expired sources (description first, so no reader finds one half gone); how many."""
        now = time.time() if now is None else now
        removed = 0
        for entry in self._entries():
            sha256 = entry.name.removesuffix(".json")
            if not entry.name.endswith(".json") or not _SHA256.fullmatch(sha256):
                continue
            try:
                self.describe(sha256, now)
            except SourceNotFound:
                blob, meta = self._paths(sha256)
                for path in (meta, blob):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                removed += 1
        return removed


class StoredLoader:
    scheme = "stored"

    def __init__(self, store: SourceStore) -> None:
        self.store = store

    def _stat(self, location: str) -> SourceInfo:
        stored = self.store.describe(location.lstrip("/"))
        return SourceInfo(
            identity=f"sha256:{stored.sha256}",
            size=stored.bytes,
            last_modified=stored.stored_at,
            immutable=True,
            input_type=stored.format,
            width=stored.width,
            height=stored.height,
        )

    async def stat(self, location: str) -> SourceInfo:
        return await asyncio.to_thread(self._stat, location)

    async def read(self, location: str, info: SourceInfo) -> bytes:
        return await asyncio.to_thread(self.store.read, location.lstrip("/"))
