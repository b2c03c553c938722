"""Stop working for clients that have gone: a request abandoned while queued (a load tester's
timeout, a browser that moved on) must not keep its place in the bounded queue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from litestar import Request

from ..errors import CLIENT_CLOSED_REQUEST, ServiceError

__all__ = ["ClientGone", "unless_client_leaves"]

T = TypeVar("T")


class ClientGone(ServiceError):
    """The client closed the connection before the answer was ready."""

    code = CLIENT_CLOSED_REQUEST

    def __init__(self) -> None:
        super().__init__("The client closed the connection")


async def _disconnected(request: Request[Any, Any, Any]) -> None:
    # The body has been read, so the next ASGI message can only be the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(request: Request[Any, Any, Any], work: Awaitable[T]) -> T:
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()  # a queued job leaves the queue; a running one finishes but nobody waits for it
    raise ClientGone()
