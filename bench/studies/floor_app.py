"""The floor under the service's per-request server CPU: bare ASGI apps on the same uvicorn, doing
only the unavoidable parts of a conversion request, one more part per mode.

    FLOOR_MODE=receive   read the whole body, answer 4 KB (uvicorn + httptools + the event loop)
    FLOOR_MODE=shm       ... and write the body into a reused /dev/shm file (service/transfer.py)
    FLOOR_MODE=executor  ... and a ProcessPoolExecutor round trip in which the worker reads the file

Run by `python -m bench.studies.server_cpu --floor` beside the service, requests interleaved, so the
difference between the service and `executor` is what Litestar, validation, the pool's
bookkeeping, logging and metrics cost, and `executor` itself is what this stack cannot go below.
Same glibc malloc settings as the service (service/malloc.py).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from litestar import Litestar, Request, Response, get, post

from service import transfer
from service.malloc import keep_large_buffers

MODE = os.environ.get("FLOOR_MODE", "receive")
ANSWER = b"\xff" * 4096

keep_large_buffers()
_executor: ProcessPoolExecutor | None = None
_PATH = f"{transfer.SHM_DIR}/{transfer.PREFIX}{os.getpid()}-floor"  # swept like the service's own files
_fd: int | None = None


def _file() -> int:
    """One file, reused by every request (as the service's pool of files is)."""
    global _fd
    if _fd is None:
        _fd = os.open(_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return _fd


def _worker_reads(blob: transfer.Blob) -> int:
    return len(transfer.take(blob))


async def _lifespan(receive: Any, send: Any) -> None:
    global _executor
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if MODE == "executor":
                _executor = ProcessPoolExecutor(max_workers=1)
                await asyncio.wrap_future(_executor.submit(int, 0))  # the worker started before the timing
        elif message["type"] == "lifespan.shutdown":
            if _executor is not None:
                _executor.shutdown()
            if _fd is not None:
                os.close(_fd)
                os.unlink(_PATH)
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": message["type"] + ".complete"})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    # Each chunk written where it belongs as it arrives: no joined copy of the body (the least a
    # server can do; the service joins, as Litestar's request.body() does).
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if MODE != "receive":
            os.pwrite(_file(), chunk, size)
        size += len(chunk)
        if not message.get("more_body"):
            break
    if MODE == "executor" and _executor is not None:
        await asyncio.wrap_future(_executor.submit(_worker_reads, transfer.Blob(_PATH, size)))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"image/jpeg")]})
    await send({"type": "http.response.body", "body": ANSWER})


def _litestar_app() -> Any:
    """FLOOR_MODE=litestar: the `executor` mode's work in one Litestar handler (`request.body()`,
    the file, the round trip): what the framework adds, without this service's own layers."""

    @get("/ready")
    async def ready() -> str:
        return "ok"

    @post("/api/convert", status_code=200)
    async def convert(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        os.pwrite(_file(), body, 0)
        if _executor is not None:
            await asyncio.wrap_future(_executor.submit(_worker_reads, transfer.Blob(_PATH, len(body))))
        return Response(ANSWER, media_type="image/jpeg")

    async def start() -> None:
        global _executor
        _executor = ProcessPoolExecutor(max_workers=1)
        await asyncio.wrap_future(_executor.submit(int, 0))

    def stop() -> None:
        if _executor is not None:
            _executor.shutdown()

    return Litestar([convert, ready], on_startup=[start], on_shutdown=[stop])


if MODE == "litestar":
    app = _litestar_app()
