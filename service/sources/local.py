"""`local:///path`: a file under SOURCE_DIR, and nothing outside it.

The path is resolved with every symlink followed and must still lie under SOURCE_DIR's own real
path; `..`, absolute tricks, NUL bytes and links pointing out all end as SourceNotFound, the same
answer as a missing file, so a URL cannot probe what exists elsewhere. The file is then opened
without following a final symlink and checked to be the file resolved (same device and inode),
so a link swapped in between is refused too.
"""

from __future__ import annotations

import asyncio
import os
import stat as stat_module

from .errors import SourceNotFound, SourceTooLarge
from .loader import SourceInfo

__all__ = ["LocalLoader"]


class LocalLoader:
    scheme = "local"

    def __init__(self, root: str, max_bytes: int) -> None:
        self.root = os.path.realpath(root) if root else ""
        self.max_bytes = max_bytes

    def resolve(self, location: str) -> str:
        """The real path of `location` (what follows local://) under the root, or SourceNotFound."""
        if not self.root or not location.startswith("/") or "\x00" in location:
            raise SourceNotFound()
        candidate = os.path.realpath(os.path.join(self.root, location.lstrip("/")))
        if os.path.commonpath([self.root, candidate]) != self.root or candidate == self.root:
            raise SourceNotFound()
        return candidate

    def _stat(self, location: str) -> SourceInfo:
        path = self.resolve(location)
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            raise SourceNotFound() from None
        if not stat_module.S_ISREG(st.st_mode):
            raise SourceNotFound()
        return SourceInfo(
            identity=f"local:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}",
            size=st.st_size,
            last_modified=st.st_mtime,
            immutable=False,
        )

    def _read(self, location: str, info: SourceInfo) -> bytes:
        if info.size > self.max_bytes:
            raise SourceTooLarge(info.size, self.max_bytes)
        path = self.resolve(location)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            raise SourceNotFound() from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if f"local:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}" != info.identity:
                raise SourceNotFound()  # replaced since stat: the caller's ETag would not match these bytes
            data = f.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise SourceTooLarge(len(data), self.max_bytes)
        return data

    async def stat(self, location: str) -> SourceInfo:
        return await asyncio.to_thread(self._stat, location)

    async def read(self, location: str, info: SourceInfo) -> bytes:
        return await asyncio.to_thread(self._read, location, info)
