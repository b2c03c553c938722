"""The Litestar application: routes, error handling, the pool's lifespan and the static UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Parameter, Schema
from litestar.static_files import create_static_files_router

from . import metrics
from .api import batch, convert, health, seed
from .api.errors import json_error_handler
from .conversions import Engine
from .imaging.options import OPTIONS
from .pool import WorkerPool
from .settings import Settings

log = logging.getLogger("service")
WEB_DIR = Path(__file__).parent / "web"


class StartupError(RuntimeError):
    """libvips in this environment cannot do what the service promises."""


def _page(name: str) -> Response[bytes]:
    return Response((WEB_DIR / name).read_bytes(), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    return _page("index.html")


@get("/batch", include_in_schema=False, sync_to_thread=False)
def batch_page() -> Response[bytes]:
    return _page("batch.html")


def _pool_lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = WorkerPool(settings.workers, settings.max_waiting, job_worker_share=settings.job_worker_share,
                          max_batches=settings.max_concurrent_batches)
        info = await pool.start()
        if info.missing_savers:
            await pool.close()
            raise StartupError("libvips lacks required encoders: " + ", ".join(info.missing_savers)
                               + " (install the pyvips-binary wheel, which bundles them)")
        log.info("pool started", extra={
            "libvips": info.version, "mozjpeg": info.mozjpeg, "workers": settings.workers,
            "queue_per_worker": settings.queue_per_worker, "capacity": pool.capacity,
        })
        if not info.mozjpeg:
            log.warning("libvips JPEG is not mozjpeg: trellis_quant, overshoot_deringing, optimize_scans "
                        "and quant_table will have no effect")
        app.state.engine = Engine(pool, settings)
        if settings.metrics_port:
            metrics.serve_on_port(settings.metrics_port, settings.host)
        try:
            yield
        finally:
            app.state.draining = True
            await pool.close()
            log.info("pool stopped")

    return lifespan


def _document_options(app: Litestar) -> None:
    """Options arrive as query parameters or form fields read from one table, not as handler
    arguments, so the generated schema is told about them here from that same table."""
    schema = app.openapi_schema
    for path in ("/api/convert", "/api/batch"):
        item = schema.paths.get(path) if schema.paths else None
        if item is None or item.post is None:
            continue
        params = [Parameter(name=spec.name, param_in="query", required=False,
                            description=spec.description + " Accepts " + "; ".join(
                                f"{d.describe()} ({', '.join(sorted(f.value for f in d.formats))})"
                                for d in spec.domains) + ".",
                            schema=Schema())
                  for spec in OPTIONS]
        if path == "/api/batch":
            params += [
                Parameter(name="widths", param_in="query", required=False, schema=Schema(),
                          description="Output widths, comma separated or repeated."),
                Parameter(name="qualities", param_in="query", required=False, schema=Schema(),
                          description="Qualities (1-100), comma separated or repeated."),
                Parameter(name="formats", param_in="query", required=False, schema=Schema(),
                          description="Output formats, comma separated or repeated (default: format)."),
                Parameter(name="response", param_in="query", required=False, schema=Schema(),
                          description="zip (default, streamed) or json (manifest with data URLs)."),
            ]
        item.post.parameters = params


def create_app(settings: Settings) -> Litestar:
    app = Litestar(
        route_handlers=[
            convert.convert, batch.batch, seed.process, seed.preview,
            health.health, health.ready, health.prometheus,
            index_page, batch_page,
            create_static_files_router(path="/static", directories=[WEB_DIR], include_in_schema=False),
        ],
        exception_handlers={Exception: json_error_handler},
        # Access log, security headers, keys, CORS and early admission wrap the whole app instead
        # (service/api/edge.py), so router answers such as 404 and 405 get them too.
        lifespan=[_pool_lifespan(settings)],
        request_max_body_size=settings.max_upload_bytes,
        state=State({"draining": False, "settings": settings}),
        openapi_config=OpenAPIConfig(
            title="Image conversion service",
            version="1.0.0",
            description="Resize and re-encode images to JPEG, PNG, WebP, AVIF or TIFF. "
                        "Errors are JSON: {\"error\": {status, code, message, field}}.",
        ),
        logging_config=None,
    )
    _document_options(app)
    return app
