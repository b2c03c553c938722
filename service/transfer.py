"""Handing an upload to a worker through shared memory instead of the executor's pipe.

    with shared(data) as blob:          # server: one write into a tmpfs file (None: send inline)
        job = ConvertJob(b"" if blob else data, ..., blob=blob)
    data = take(blob)                   # worker: one read

Through the pipe, a 1.4 MB upload is pickled (a copy) and pushed through a 64 KB pipe buffer by the
executor's feeder thread, waking the worker ~25 times: 2-3 ms of the server's CPU per request,
measured with `python -m bench.server_cpu` (BENCHMARKS.md). A file in /dev/shm costs one memcpy in
the kernel, and the job message that still goes through the pipe is a few hundred bytes.

The files are the server's: written before the job is submitted, reused by the next upload once
the job has finished, removed when it failed or was abandoned (a worker may still be reading it).
Files left by a server that was itself killed are swept on the first use by the next one. Where /dev/shm is missing
or full (a container with a 64 MB /dev/shm and a queue of 25 MB uploads), the upload goes inline
through the pipe as before: slower, never wrong.

No pyvips and no web imports: used by the server (conversions.py) and the workers (imaging/worker.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator

import msgspec

SHM_DIR = "/dev/shm"
PREFIX = "imageconv-"
# Below this the pipe is as cheap as a file (one pipe buffer, no file to create and remove).
MIN_BYTES = 128 * 1024

_swept = False


class Blob(msgspec.Struct, frozen=True):
    """Where a worker finds the bytes of a job, and how many there must be."""

    path: str
    size: int


def _usable(directory: str) -> bool:
    return os.path.isdir(directory) and os.access(directory, os.W_OK | os.X_OK)


def _sweep(directory: str) -> None:
    """Remove files of servers that no longer run (their pid is in the name)."""
    global _swept
    _swept = True
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if not name.startswith(PREFIX):
                continue
            pid = name[len(PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))


class _File:
    """A tmpfs file kept open and reused: rewriting pages already allocated costs a memcpy (0.14 ms
    for 1.6 MB), a new file also pays for allocating and zeroing them (0.77 ms, measured)."""

    def __init__(self, path: str, fd: int) -> None:
        self.path, self.fd, self.size = path, fd, 0


_free: list[_File] = []
_lent: dict[str, _File] = {}
# Free files kept: one per convert in flight is enough (2 workers x (1 + 4 queued) by default), and
# only files up to 4 MB are kept, so the pool holds at most 32 MB of /dev/shm between requests.
POOL_FILES = 8
POOL_FILE_BYTES = 4 * 1024 * 1024


def _new_file(directory: str) -> _File | None:
    if not _usable(directory):
        return None
    if not _swept:
        _sweep(directory)
    path = os.path.join(directory, f"{PREFIX}{os.getpid()}-{secrets.token_hex(8)}")
    try:
        return _File(path, os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except OSError:
        return None


def _discard(file: _File) -> None:
    os.close(file.fd)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(file.path)


def put(data: bytes, directory: str = SHM_DIR) -> Blob | None:
    """Write `data` to a shared-memory file; None when it is small or cannot be written."""
    if len(data) < MIN_BYTES:
        return None
    file = _free.pop() if _free else _new_file(directory)
    if file is None:
        return None
    try:
        view = memoryview(data)
        offset = 0
        while offset < len(data):
            offset += os.pwrite(file.fd, view[offset:], offset)
    except OSError as exc:  # ENOSPC: /dev/shm is full; fall back to the pipe
        _discard(file)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        return None
    file.size = max(file.size, len(data))
    _lent[file.path] = file
    return Blob(file.path, len(data))


def release(blob: Blob | None, reuse: bool = True) -> None:
    """Give the file back. `reuse=False` when a worker may still be reading it (the job was
    abandoned): a new request must not overwrite bytes a running job reads."""
    if blob is None:
        return
    file = _lent.pop(blob.path, None)
    if file is None:
        return
    if reuse and len(_free) < POOL_FILES and file.size <= POOL_FILE_BYTES:
        _free.append(file)
    else:
        _discard(file)


@contextlib.contextmanager
def shared(data: bytes, directory: str = SHM_DIR) -> Iterator[Blob | None]:
    """`data` in shared memory for as long as the block runs (None: send it inline)."""
    blob = put(data, directory)
    try:
        yield blob
    except BaseException:
        release(blob, reuse=False)
        raise
    release(blob)


def take(blob: Blob) -> bytes:
    """Worker side: the bytes the server put there (the file may be longer: it is reused)."""
    fd = os.open(blob.path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.pread(fd, blob.size, 0)
    finally:
        os.close(fd)
    if len(data) != blob.size:
        raise OSError(f"shared upload {blob.path} holds {len(data)} bytes, expected {blob.size}")
    return data
