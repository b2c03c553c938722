"""Handing an upload to a worker, and its output back, through shared memory instead of the
executor's pipe.

    with shared(data) as blob, output() as out:   # server: the upload written into a tmpfs file,
        job = ConvertTask(b"" if blob else data, ..., blob=blob, out=out)   # and a file lent for the answer
    data = take(blob)                   # worker: one read
    result.blob = give(out, encoded)    # worker: a large output written into the lent file
    encoded = fetch(result.blob)        # server: one read, before the `with` gives the files back

Through the pipe, a 1.4 MB upload is pickled (a copy) and pushed through a 64 KB pipe buffer by the
executor's feeder thread, waking the worker ~25 times: 2-3 ms of the server's CPU per request,
measured with `python -m bench.studies.server_cpu` (BENCHMARKS.md). A file in /dev/shm costs one memcpy in
the kernel, and the job message that still goes through the pipe is a few hundred bytes. Outputs
are the same story in reverse: a 3.9 MB PNG answered through the result pipe cost the server 4.7 ms
more than a 17 KB JPEG; outputs from MIN_BYTES up come back through a file the server lent.

The files are the server's: written before the job is submitted, reused by the next upload once
the job has finished, removed when it failed or was abandoned (a worker may still be reading it).
Files left by a server that was itself killed are swept on the first use by the next one. Where /dev/shm is missing
or full (a container with a 64 MB /dev/shm and a queue of 25 MB uploads), the upload goes inline
through the pipe as before: slower, never wrong.

No pyvips and no web imports: used by the server (engine.py) and the workers (imaging/worker.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator

import msgspec

__all__ = [
    "MIN_BYTES",
    "POOL_BYTES",
    "POOL_FILES",
    "PREFIX",
    "SHM_DIR",
    "Blob",
    "fetch",
    "give",
    "lend",
    "output",
    "put",
    "release",
    "shared",
    "take",
]

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
# Free files kept: two per convert in flight (upload and output; 2 workers x (1 + 4 queued) by
# default), within POOL_BYTES together so that idle files never fill a container's /dev/shm (64 MB
# by default under Docker); a file over the budget is removed once used. 16 MB covers a 4K JPEG
# upload (4.2 MB in the bench) and a 1600-wide PNG answer (3.9 MB) several times over.
POOL_FILES = 16
POOL_BYTES = 32 * 1024 * 1024


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


def _borrow(directory: str) -> _File | None:
    """A free file in `directory` (the newest first), else a new one: a file kept from a caller
    that asked for another directory is not handed out here."""
    for index in range(len(_free) - 1, -1, -1):
        if os.path.dirname(_free[index].path) == directory:
            return _free.pop(index)
    return _new_file(directory)


def put(data: bytes, directory: str = SHM_DIR) -> Blob | None:
    """Write `data` to a shared-memory file; None when it is small or cannot be written."""
    if len(data) < MIN_BYTES:
        return None
    file = _borrow(directory)
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
    if reuse and len(_free) < POOL_FILES and sum(f.size for f in _free) + file.size <= POOL_BYTES:
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


def lend(directory: str = SHM_DIR) -> Blob | None:
    """A file for a worker to write an output into (`give`); None: the output comes inline."""
    file = _borrow(directory)
    if file is None:
        return None
    _lent[file.path] = file
    return Blob(file.path, 0)


@contextlib.contextmanager
def output(directory: str = SHM_DIR) -> Iterator[Blob | None]:
    """A lent output file for as long as the block runs: `fetch` the answer inside the block."""
    blob = lend(directory)
    try:
        yield blob
    except BaseException:
        release(blob, reuse=False)  # a worker may still be writing into it
        raise
    release(blob)


def fetch(blob: Blob) -> bytes:
    """Server side: the output a worker wrote into a lent file (`give`)."""
    file = _lent[blob.path]
    file.size = max(file.size, blob.size)
    return _read_exactly(file.fd, blob.size, blob.path)


def give(out: Blob, data: bytes) -> Blob:
    """Worker side: write an output into the file the server lent; what the server must read."""
    fd = os.open(out.path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        view = memoryview(data)
        offset = 0
        while offset < len(data):
            offset += os.pwrite(fd, view[offset:], offset)
    finally:
        os.close(fd)
    return Blob(out.path, len(data))


def _read_exactly(fd: int, size: int, path: str) -> bytes:
    data = os.pread(fd, size, 0)
    if len(data) != size:
        raise OSError(f"shared file {path} holds {len(data)} bytes, expected {size}")
    return data


def take(blob: Blob) -> bytes:
    """Worker side: the bytes the server put there (the file may be longer: it is reused)."""
    fd = os.open(blob.path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _read_exactly(fd, blob.size, blob.path)
    finally:
        os.close(fd)
