"""Liveness, readiness and the Prometheus scrape endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response, get

from .. import metrics
from ..pool import WorkerPool

__all__ = ["Health", "Readiness", "health", "prometheus", "ready"]


class Health(msgspec.Struct):
    status: str
    timestamp: str


class Readiness(msgspec.Struct):
    status: str  # ready | saturated (both 200) | draining | starting (both 503)
    workers: int
    busy: int
    waiting: int
    admitted: int
    capacity: int
    saturation: float


@get("/health", summary="Liveness: the process answers", tags=["operations"], sync_to_thread=False)
def health() -> Health:
    return Health("ok", dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"))


@get(
    "/ready",
    summary="Readiness for the load balancer: 200 while the pool has workers and the process is not "
    "draining (saturated included), 503 while starting or draining",
    tags=["operations"],
    sync_to_thread=False,
)
def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    # Saturation never fails this check: the load balancer would take a full task out of service
    # (and ECS replace it) exactly when capacity is short. A full queue already answers 503 +
    # Retry-After per request, and saturation drives autoscaling through /metrics instead.
    pool: WorkerPool = request.app.state.engine.pool
    if request.app.state.draining:
        status = "draining"
    elif not pool.worker_pids():
        status = "starting"
    elif not pool.accepting:
        status = "saturated"
    else:
        status = "ready"
    body = Readiness(
        status, pool.size, pool.busy, pool.waiting, pool.admitted, pool.capacity, round(pool.saturation, 3)
    )
    return Response(body, status_code=200 if status in ("ready", "saturated") else 503)


@get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    tags=["operations"],
    sync_to_thread=False,
    include_in_schema=True,
)
def prometheus() -> Response[bytes]:
    payload, content_type = metrics.exposition()
    return Response(payload, media_type=content_type)
