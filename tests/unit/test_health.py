"""Liveness, readiness and the scrape endpoint (service/api/health.py) on the whole app with a real
one-worker pool: readiness reports the pool and turns 503 while draining; liveness does not."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec
import pytest
from appclient import running_app
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.api.health import Health, Readiness


@pytest.fixture(scope="module")
def app() -> Iterator[tuple[TestClient[Litestar], Litestar]]:
    with running_app({"QUEUE_PER_WORKER": "3"}) as running:
        yield running


def test_liveness_answers_ok_with_the_time(app: tuple[TestClient[Litestar], Litestar]) -> None:
    client, _ = app
    r = client.get("/health")
    body = msgspec.json.decode(r.content, type=Health)
    assert r.status_code == 200 and body.status == "ok"
    stamp = dt.datetime.fromisoformat(body.timestamp)
    assert stamp.tzinfo is not None and abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60


def test_readiness_reports_the_pool(app: tuple[TestClient[Litestar], Litestar]) -> None:
    client, litestar = app
    r = client.get("/ready")
    pool = litestar.state.engine.pool
    assert r.status_code == 200
    assert msgspec.json.decode(r.content, type=Readiness) == Readiness("ready", 1, 0, 0, 0, pool.capacity, 0.0)
    assert pool.capacity == 4  # WORKERS x (1 + QUEUE_PER_WORKER)


def test_draining_turns_readiness_503_but_not_liveness(app: tuple[TestClient[Litestar], Litestar]) -> None:
    client, litestar = app
    litestar.state.draining = True
    try:
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "draining"
        assert client.get("/health").status_code == 200
    finally:
        litestar.state.draining = False
    assert client.get("/ready").status_code == 200


def test_the_scrape_endpoint_serves_prometheus_text(app: tuple[TestClient[Litestar], Litestar]) -> None:
    client, _ = app
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    (workers,) = families["imageconv_pool_workers"].samples
    assert workers.value == 1
