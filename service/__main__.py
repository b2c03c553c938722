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

from .app import create_app
from .logs import configure_logging, uvicorn_log_config
from .malloc import keep_large_buffers
from .settings import Settings, SettingsError, load_settings

log = logging.getLogger("service")


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT: readiness turns 503 first, then uvicorn's graceful shutdown lets in-flight
    requests finish (up to SHUTDOWN_TIMEOUT_SECONDS) before the pool stops. A drained shutdown is
    a clean exit (status 0), so the signal is not re-raised afterwards as uvicorn would."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        app = self.config.loaded_app if self.config.loaded else None
        state = getattr(getattr(app, "app", app), "state", None)
        if state is not None:
            state.draining = True
        log.info("shutdown requested; draining", extra={"signal": signal.Signals(sig).name})
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(settings: Settings) -> int:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=uvicorn_log_config(),
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        # Bounded admission is the pool's job; this only caps sockets so a flood cannot exhaust fds.
        limit_concurrency=max(64, 8 * settings.workers * (1 + settings.queue_per_worker)),
        timeout_keep_alive=75,  # longer than the NLB/API Gateway idle timeouts
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
    keep_large_buffers()  # before the first request allocates anything large
    log.info("starting", extra={"host": settings.host, "port": settings.port, "workers": settings.workers})
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
