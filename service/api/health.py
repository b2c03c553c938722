"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Request, Response, get

from .. import metrics
from ..pool import WorkerPool


class Health(msgspec.Struct):
    status: str
    timestamp: str


class Readiness(msgspec.Struct):
    status: str  # ready | saturated | draining | starting
    workers: int
    busy: int
    waiting: int
    admitted: int
    capacity: int
    saturation: float


@get("/health", summary="Liveness: the process answers", tags=["operations"], sync_to_thread=False)
def health() -> Health:
    return Health("ok", dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"))


@get("/ready", summary="Readiness: 200 when the pool is alive and not saturated, else 503",
     tags=["operations"], sync_to_thread=False)
def ready(request: Request) -> Response[Readiness]:
    pool: WorkerPool = request.app.state.engine.pool
    if request.app.state.draining:
        status = "draining"
    elif not pool.accepting:
        status = "saturated" if pool.worker_pids() else "starting"
    else:
        status = "ready"
    body = Readiness(status, pool.size, pool.busy, pool.waiting, pool.admitted, pool.capacity,
                     round(pool.saturation, 3))
    return Response(body, status_code=200 if status == "ready" else 503)


@get("/metrics", summary="Prometheus metrics (text exposition format)", tags=["operations"],
     sync_to_thread=False, include_in_schema=True)
def prometheus() -> Response[bytes]:
    payload, content_type = metrics.exposition()
    return Response(payload, media_type=content_type)
