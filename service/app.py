"""The Litestar application: routes, error handling, the pool's lifespan and the static UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router

from . import metrics
from .api import batch, catalog, convert, docs_ui, health, img, jobs, seed, sources
from .api.errors import json_error_handler
from .api.openapi import UPLOAD_ERRORS, RouteDoc, document_routes
from .engine import Engine
from .errors import JOB_NOT_FINISHED, JOB_NOT_FOUND, OUTPUT_NOT_FOUND, STORAGE_FULL, TOO_MANY_JOBS
from .imgurl.urloptions import preset_table
from .jobs.runner import JobRunner
from .jobs.store import JobStore
from .pool import WorkerPool
from .settings import Settings
from .sources.loader import Sources
from .sources.local import LocalLoader
from .sources.signature import Signer
from .sources.stored import SourceStore, StoredLoader

__all__ = ["WEB_DIR", "StartupError", "batch_page", "create_app", "index_page"]

log = logging.getLogger("service")
WEB_DIR = Path(__file__).parent / "web"


class StartupError(RuntimeError):
    """libvips in this environment cannot do what the service promises."""


def _page(name: str) -> Response[bytes]:
    return Response((WEB_DIR / name).read_bytes(), media_type="text/html", headers={"Cache-Control": "no-cache"})


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    return _page("index.html")


@get("/batch", include_in_schema=False, sync_to_thread=False)
def batch_page() -> Response[bytes]:
    return _page("batch.html")


def _pool_lifespan(settings: Settings, signer: Signer) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = WorkerPool(
            settings.workers,
            settings.max_waiting,
            job_worker_share=settings.job_worker_share,
            max_batches=settings.max_concurrent_batches,
        )
        info = await pool.start()
        if info.missing_savers:
            await pool.close()
            raise StartupError(
                "libvips lacks required encoders: "
                + ", ".join(info.missing_savers)
                + " (install the pyvips-binary wheel, which bundles them)"
            )
        log.info(
            "pool started",
            extra={
                "libvips": info.version,
                "mozjpeg": info.mozjpeg,
                "workers": settings.workers,
                "queue_per_worker": settings.queue_per_worker,
                "capacity": pool.capacity,
            },
        )
        if not info.mozjpeg:
            log.warning(
                "libvips JPEG is not mozjpeg: trellis_quant, overshoot_deringing, optimize_scans "
                "and quant_table will have no effect"
            )
        app.state.engine = Engine(pool, settings)
        counted = None if settings.sources_dir else settings.storage_dir
        store = SourceStore(settings.sources_root, settings.source_ttl_seconds, settings.max_storage_bytes, counted)
        try:
            store.ensure()
        except OSError as exc:
            await pool.close()
            raise StartupError(f"SOURCES_DIR {settings.sources_root!r} cannot hold sources: {exc}") from exc
        app.state.img = img.ImgContext(
            signer=signer,
            presets=preset_table(settings.url_presets),
            only_presets=settings.url_only_presets,
            sources=Sources([LocalLoader(settings.source_dir, settings.max_upload_bytes), StoredLoader(store)]),
            store=store,
            engine_version=info.version,
            max_age=settings.url_cache_max_age_seconds,
        )
        runner = JobRunner(JobStore(settings.storage_dir), app.state.engine, lambda: bool(app.state.draining))
        try:
            await runner.start()
        except OSError as exc:
            await pool.close()
            raise StartupError(f"STORAGE_DIR {settings.storage_dir!r} cannot hold jobs: {exc}") from exc
        app.state.jobs = runner
        if settings.metrics_port:
            metrics.serve_on_port(settings.metrics_port, settings.host)
        try:
            yield
        finally:
            app.state.draining = True
            # Held job items get what is left of the drain budget (the pool's own grace after).
            await runner.stop(max(0.0, settings.shutdown_timeout_seconds - 5))
            await pool.close()
            log.info("pool stopped")

    return lifespan


def create_app(settings: Settings) -> Litestar:
    signer = settings.signer  # SettingsError now, at start-up, when keys and salts do not pair up
    app = Litestar(
        route_handlers=[
            convert.convert,
            batch.batch,
            seed.process,
            seed.preview,
            catalog.list_options,
            docs_ui.docs_asset,
            jobs.submit_job,
            jobs.job_status,
            jobs.job_output,
            jobs.job_archive,
            jobs.cancel_job,
            img.img,
            sources.store_source,
            health.health,
            health.ready,
            health.prometheus,
            index_page,
            batch_page,
            create_static_files_router(path="/static", directories=[WEB_DIR], include_in_schema=False),
        ],
        exception_handlers={Exception: json_error_handler},
        # Access log, security headers, keys, CORS and early admission wrap the whole app instead
        # (service/api/edge.py), so router answers such as 404 and 405 get them too.
        lifespan=[_pool_lifespan(settings, signer)],
        request_max_body_size=settings.max_upload_bytes,
        state=State({"draining": False, "settings": settings}),
        openapi_config=OpenAPIConfig(
            title="Image conversion service",
            version="1.0.0",
            description="Resize and re-encode images to JPEG, PNG, WebP, AVIF or TIFF. "
            'Errors are JSON: {"error": {status, code, message, field}}.',
            render_plugins=[docs_ui.render_plugin()],
        ),
        logging_config=None,
    )
    # batch.py belongs to the jobs work; its documentation is attached here rather than by its decorator.
    batch_doc = RouteDoc(
        options="batch",
        upload=True,
        success="zip_or_json",
        errors=UPLOAD_ERRORS,
        json_model=batch.BatchManifest,
        operation_id="batch",
    )
    by_path = {
        "/api/batch": batch_doc,
        "/api/jobs": RouteDoc(
            options="batch",
            upload=True,
            errors=(*UPLOAD_ERRORS, TOO_MANY_JOBS, STORAGE_FULL),
            exclude=("response",),
            operation_id="submit_job",
        ),
        "/api/jobs/{job_id}": RouteDoc(errors=(JOB_NOT_FOUND,)),
        "/api/jobs/{job_id}/outputs/{name}": RouteDoc(success="image", errors=(JOB_NOT_FOUND, OUTPUT_NOT_FOUND)),
        "/api/jobs/{job_id}/archive": RouteDoc(success="zip", errors=(JOB_NOT_FOUND, JOB_NOT_FINISHED)),
        "/ready": RouteDoc(success_statuses={503: "Not ready (the status field says why)"}),
        "/metrics": RouteDoc(success="text"),  # Prometheus text format
    }
    document_routes(app, max_dimension=settings.max_output_dimension, by_path=by_path)
    return app
