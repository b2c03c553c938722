"""`python -m service`: validate settings, then serve with uvicorn in this one process.

Parallelism comes from the libvips worker pool, not from uvicorn workers: one event loop is
plenty for the I/O, and one pool per process keeps admission and metrics exact.
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import uvicorn

from .api.edge import edge
from .app import create_app
from .connections import guarded_protocol
from .logs import configure_logging, uvicorn_log_config
from .settings import Settings, SettingsError, load_settings

log = logging.getLogger("service")


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT: readiness turns 503 first, then uvicorn's graceful shutdown lets in-flight
    requests finish (up to SHUTDOWN_TIMEOUT_SECONDS) before the pool stops. A drained shutdown is
    a clean exit (status 0), so the signal is not re-raised afterwards as uvicorn would."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        app = self.config.loaded_app if self.config.loaded else None
        while app is not None and not hasattr(app, "state"):  # through the ASGI layers around it
            app = getattr(app, "app", None)
        state = getattr(app, "state", None)
        if state is not None:
            state.draining = True
        log.info("shutdown requested; draining", extra={"signal": signal.Signals(sig).name})
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


KEEP_ALIVE_SECONDS = 75  # longer than the NLB/API Gateway idle timeouts


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
    server = DrainingServer(config)
    server.run()
    return 0 if server.started else 3


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    log.info("starting", extra={"host": settings.host, "port": settings.port, "workers": settings.workers})
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
