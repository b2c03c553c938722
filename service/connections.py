"""HTTP connections that cannot crowd out real requests: uvicorn's httptools protocol, guarded.

uvicorn alone has no time limit on receiving a request's headers or body, no limit on the size of
the headers (httptools buffers a 60 MB header line), and its `limit_concurrency` counts open
sockets, so idle keep-alive connections or slow senders turn every request, `/health` included,
into a 503. Here instead:

- a request's headers must arrive within `header_timeout` seconds of its first byte, and be at most
  `max_header_bytes` (431 beyond);
- a body must keep arriving (no `header_timeout` seconds of silence) and be complete within
  `body_timeout` seconds of its headers (408 and close otherwise);
- a connection with no request in progress is idle: it is closed after the keep-alive timeout,
  and when the server holds `max_connections` sockets the oldest idle ones (then the oldest still
  sending headers) are closed to make room, so a new client is always served;
- no socket count turns requests away: admission counts requests, in the worker pool.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from . import metrics
from .errors import HEADERS_TOO_LARGE

__all__ = ["GuardedProtocol", "guarded_protocol", "usable_connections"]

log = logging.getLogger("service.connections")

IDLE, HEAD, BODY, APP = "idle", "head", "body", "app"
_CLOSE_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_431_BODY = orjson.dumps(
    {
        "error": {
            "status": HEADERS_TOO_LARGE.status,
            "code": HEADERS_TOO_LARGE.name,
            "message": "The request line and headers are larger than the limit (MAX_HEADER_BYTES)",
        }
    }
)
_CLOSE_431 = (
    b"HTTP/1.1 %d Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (HEADERS_TOO_LARGE.status, len(_431_BODY), _431_BODY)
)


def usable_connections(wanted: int, reserve: int = 64) -> int:
    """At most the process's file-descriptor limit minus a reserve (workers' pipes, files, logs),
    raising the soft limit to the hard one first: running out of descriptors stops accept()."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(16, min(wanted, soft - reserve))


class GuardedProtocol(HttpToolsProtocol):
    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 60.0
    keep_alive_timeout: ClassVar[float] = 75.0
    max_header_bytes: ClassVar[int] = 65536
    max_connections: ClassVar[int] = 4096
    _sweeper: ClassVar[asyncio.Task[None] | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase = IDLE
        self.phase_since = time.monotonic()
        self.last_data = self.phase_since
        self.head_bytes = 0

    # --- phases --------------------------------------------------------------------------------
    def _enter(self, phase: str) -> None:
        self.phase = phase
        self.phase_since = time.monotonic()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._make_room()
        cls = type(self)
        if cls._sweeper is None or cls._sweeper.done():
            metrics.HTTP_CONNECTIONS.set_function(lambda: len(self.connections))
            cls._sweeper = self.loop.create_task(cls._sweep(self.connections))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_data = now
        if self.phase == IDLE:
            self._enter(HEAD)
            self.head_bytes = 0
        if self.phase == HEAD:
            # Counted per chunk before parsing it: the headers may overshoot by one read, never more.
            if self.head_bytes > self.max_header_bytes:
                self._close("headers_too_large", _CLOSE_431)
                return
            self.head_bytes += len(data)
        super().data_received(data)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.body or cycle.response_complete or self.parser.should_upgrade():
            super().on_body(body)
            return
        # uvicorn appends every chunk to a bytearray and receive() copies it out again: two copies
        # of each upload byte in this process. A chunk arriving while nothing is buffered is handed
        # on as it is instead (bytes() of a bytes object is that object; a second chunk before the
        # app reads concatenates as before).
        cycle.body = body  # type: ignore[assignment]  # uvicorn only reads it through bytes() and len()
        if len(body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()

    def on_headers_complete(self) -> None:
        self._enter(BODY)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # Answered before its body was read (an early refusal): the request is over once read.
        answered = self.cycle is not None and self.cycle.response_complete
        self._enter(IDLE if answered else APP)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self.phase != BODY:  # else the rest of the body is still to be skipped, under its timeout
            self._enter(IDLE)
        super().on_response_complete()

    # --- closing -------------------------------------------------------------------------------
    def _close(self, reason: str, answer: bytes | None = None) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        metrics.CONNECTIONS_CLOSED.labels(reason).inc()
        if (
            answer is not None
            and self.phase in (IDLE, HEAD, BODY)
            and (self.cycle is None or self.cycle.response_complete or not self.cycle.response_started)
        ):
            self.transport.write(answer)
        self.transport.close()

    def _make_room(self) -> None:
        """Over the socket limit: close the oldest idle connections, then the oldest ones still
        sending headers; only if every socket carries a request is the newcomer turned away."""
        excess = len(self.connections) - self.max_connections
        others = [c for c in self.connections if isinstance(c, GuardedProtocol) and c is not self]
        for phase in (IDLE, HEAD):
            victims = sorted((c for c in others if c.phase == phase), key=lambda c: c.phase_since)
            for victim in victims[:excess]:
                victim._close("evicted_" + phase)
                excess -= 1
            if excess <= 0:
                return
        self._close("over_connection_limit")

    @classmethod
    async def _sweep(cls, connections: set[Any]) -> None:
        """Once a second: close connections past their phase's time limit."""
        while connections:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(connections):
                if isinstance(conn, GuardedProtocol):
                    conn._expire(now)
        cls._sweeper = None

    def _expire(self, now: float) -> None:
        if self.phase == IDLE and now - self.phase_since > self.keep_alive_timeout:
            self._close("idle")
        elif self.phase == HEAD and now - self.phase_since > self.header_timeout:
            self._close("header_timeout", _CLOSE_408)
        elif self.phase == BODY and (
            now - self.phase_since > self.body_timeout
            or (
                # Silence counts only while we read: the app may be slow to consume (flow control).
                now - self.last_data > self.header_timeout and not self.flow.read_paused
            )
        ):
            self._close("body_timeout", _CLOSE_408)


def guarded_protocol(
    *,
    header_timeout: float,
    body_timeout: float,
    keep_alive_timeout: float,
    max_header_bytes: int,
    max_connections: int,
) -> type[GuardedProtocol]:
    """A protocol class carrying this server's limits (uvicorn instantiates it per connection)."""
    return type(
        "GuardedHttpProtocol",
        (GuardedProtocol,),
        {
            "header_timeout": header_timeout,
            "body_timeout": body_timeout,
            "keep_alive_timeout": keep_alive_timeout,
            "max_header_bytes": max_header_bytes,
            "max_connections": usable_connections(max_connections),
            "_sweeper": None,
        },
    )
