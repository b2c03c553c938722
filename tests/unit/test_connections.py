"""The guarded HTTP protocol (service/connections.py) on a real uvicorn and real sockets, with
limits small enough to watch: oversized headers get 431, slow headers and silent bodies 408, idle
keep-alive connections are closed, and past the socket limit the oldest idle one makes room."""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from prometheus_client import REGISTRY

from service.connections import GuardedProtocol, guarded_protocol, usable_connections

LIMITS = {"header_timeout": 0.5, "body_timeout": 30.0, "keep_alive_timeout": 1.0, "max_header_bytes": 4096}
MAX_CONNECTIONS = 16  # the floor usable_connections keeps


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b"got %d" % len(body)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(answer))]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with serving(LIMITS) as free:
        yield free


@contextlib.contextmanager
def serving(limits: dict[str, float]) -> Iterator[int]:
    protocol = guarded_protocol(**limits, max_connections=MAX_CONNECTIONS)  # type: ignore[arg-type]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free, http=protocol, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    started = threading.Event()
    original = server.startup

    async def startup(sockets=None):  # type: ignore[no-untyped-def]
        await original(sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert started.wait(30), "uvicorn did not start"
    yield free
    server.should_exit = True
    thread.join(30)


def closed(reason: str) -> float:
    return REGISTRY.get_sample_value("imageconv_http_connections_closed_total", {"reason": reason}) or 0.0


def request(port: int, body: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        return s.recv(4096)


def test_a_request_within_the_limits_is_served(port: int) -> None:
    answer = request(port, b"x" * 10_000)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"got 10000")


def test_oversized_headers_get_431_json_and_the_connection_closes(port: int) -> None:
    before = closed("headers_too_large")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(64):  # far past the limit, in many reads
                s.sendall(b"a" * 65536)
        except OSError:
            pass  # closed under us: the answer is already waiting
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert answer.endswith(b'"message":"The request line and headers are larger than the limit (MAX_HEADER_BYTES)"}}')
    assert closed("headers_too_large") == before + 1


def test_headers_that_do_not_arrive_in_time_get_408(port: int) -> None:
    before = closed("header_timeout")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        answer = s.recv(4096)  # blocks until the sweep closes us
        assert s.recv(4096) == b""
    assert answer.startswith(b"HTTP/1.1 408")
    assert closed("header_timeout") == before + 1


def test_a_body_gone_silent_gets_408(port: int) -> None:
    before = closed("body_timeout")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nab")  # then silence
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408")
    assert closed("body_timeout") == before + 1


def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(port: int) -> None:
    before = closed("idle")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        assert s.recv(4096) == b""  # closed by the server, without an answer
    assert closed("idle") == before + 1


def test_past_the_socket_limit_the_oldest_idle_connection_makes_room() -> None:
    before = closed("evicted_idle")
    # A keep-alive long enough that no idle socket times out while the others are opened.
    with serving({**LIMITS, "keep_alive_timeout": 120.0}) as port:
        _fill_then_one_more(port, before)


def _fill_then_one_more(port: int, before: float) -> None:
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        # Each has answered a request: all are known to the server, in order, and idle.
        for s in sockets:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        newcomer = socket.create_connection(("127.0.0.1", port), timeout=10)
        sockets.append(newcomer)
        newcomer.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert newcomer.recv(4096).startswith(b"HTTP/1.1 200")
        assert sockets[0].recv(4096) == b""  # the oldest idle one went
        assert closed("evicted_idle") == before + 1
        sockets[1].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sockets[1].recv(4096).startswith(b"HTTP/1.1 200")  # the others stay
    finally:
        for s in sockets:
            s.close()


def test_usable_connections_leaves_descriptors_for_the_rest_of_the_process() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert usable_connections(10) == 16  # never fewer than 16
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert soft == hard or hard == resource.RLIM_INFINITY  # raised to the hard limit first
    assert usable_connections(10**9) == (10**9 if soft == resource.RLIM_INFINITY else soft - 64)


def test_the_protocol_class_carries_the_limits_it_was_given() -> None:
    protocol = guarded_protocol(**LIMITS, max_connections=100)
    assert issubclass(protocol, GuardedProtocol) and protocol is not GuardedProtocol
    assert (protocol.header_timeout, protocol.keep_alive_timeout, protocol.max_header_bytes) == (0.5, 1.0, 4096)
    assert protocol.max_connections == usable_connections(100)
    assert GuardedProtocol.header_timeout == 10.0  # the base class is left as it was
