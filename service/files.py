"""Atomic file writes: readers (any replica, over NFS/EFS) see the whole file or nothing.

A temporary file in the same directory, then rename: rename within a directory is atomic on
local file systems and on NFSv4.1 (EFS). No web or libvips imports: used by workers and server.
"""

from __future__ import annotations

import contextlib
import os
import secrets

__all__ = ["TEMP_PREFIX", "atomic_write", "temp_path"]

TEMP_PREFIX = ".tmp-"  # every reader skips names starting with a dot


def temp_path(directory: str, suffix: str = "") -> str:
    return os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}{suffix}")


def atomic_write(path: str, data: bytes) -> None:
    tmp = temp_path(os.path.dirname(path) or ".")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
