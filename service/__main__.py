"""`python -m service`: validate settings, then serve with uvicorn in this one process.

Parallelism comes from the libvips worker pool, not from uvicorn workers: one event loop is
plenty for the I/O, and one pool per process keeps admission and metrics exact.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Generator
from types import FrameType

import uvicorn

from .api.edge import edge
from .app import create_app
from .connections import guarded_protocol
from .logs import configure_logging, uvicorn_log_config
from .malloc import keep_large_buffers
from .settings import Settings, SettingsError, load_settings

__all__ = ["KEEP_ALIVE_SECONDS", "DrainingServer", "main", "serve"]

log = logging.getLogger("service")


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT: readiness turns 503 at once, the server keeps accepting for
    PRESTOP_SECONDS while the load balancer deregisters the task, then uvicorn's graceful shutdown
    lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_SECONDS) before the pool stops.

    Signal handling is ours rather than uvicorn's: uvicorn re-raises a captured signal after its
    shutdown, which would turn a drained exit into death by SIGTERM; a drained shutdown is a clean
    exit (status 0). A second SIGINT still forces the exit (Ctrl+C twice); a second SIGTERM does
    not (pm2-runtime repeats its kill signal during a long drain)."""

    def __init__(self, config: uvicorn.Config, prestop_seconds: float = 0.0) -> None:
        super().__init__(config)
        self.prestop_seconds = prestop_seconds
        self._stop_requested = False

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._stop_requested:
            if sig == signal.SIGINT:
                self.force_exit = True
            return
        self._stop_requested = True
        app = self.config.loaded_app if self.config.loaded else None
        while app is not None and not hasattr(app, "state"):  # through the ASGI layers around it
            app = getattr(app, "app", None)
        state = getattr(app, "state", None)
        if state is not None:
            state.draining = True
        log.info(
            "shutdown requested; draining",
            extra={"signal": signal.Signals(sig).name, "prestop_seconds": self.prestop_seconds},
        )
        if self.prestop_seconds > 0 and self.started:
            # New connections may still arrive until every load balancer node has seen the
            # deregistration; refusing them would fail requests a healthy task could serve.
            timer = threading.Timer(self.prestop_seconds, self._begin_shutdown)
            timer.daemon = True
            timer.start()
        else:
            self._begin_shutdown()

    def _begin_shutdown(self) -> None:
        self.should_exit = True  # uvicorn's main loop polls it and starts the graceful shutdown


# Idle keep-alive connections are closed after 75 s, well before the NLB's fixed 350 s TCP idle
# timeout, so the NLB never silently drops a flow that a client (API Gateway's VPC link) would reuse
# and get a reset on. A proxy that pools connections itself must idle them out sooner than 75 s.
KEEP_ALIVE_SECONDS = 75


def serve(settings: Settings) -> int:
    app = create_app(settings)
    # Slow, idle or oversized connections are the protocol's business (service/connections.py);
    # requests are admitted by the pool. No socket count may turn /health or a new request away.
    protocol = guarded_protocol(
        header_timeout=settings.client_header_timeout_seconds,
        body_timeout=settings.client_body_timeout_seconds,
        keep_alive_timeout=KEEP_ALIVE_SECONDS,
        max_header_bytes=settings.max_header_bytes,
        max_connections=settings.max_connections,
    )
    config = uvicorn.Config(
        edge(app, settings),
        host=settings.host,
        port=settings.port,
        log_config=uvicorn_log_config(),
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        http=protocol,
        limit_concurrency=None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        lifespan="on",
    )
    server = DrainingServer(config, prestop_seconds=settings.prestop_seconds)
    server.run()
    return 0 if server.started else 3


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    keep_large_buffers()  # before the first request allocates anything large
    log.info("starting", extra={"host": settings.host, "port": settings.port, "workers": settings.workers})
    try:
        return serve(settings)
    except SettingsError as exc:  # what only the settings together can tell (create_app checks it)
        print(f"service: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
