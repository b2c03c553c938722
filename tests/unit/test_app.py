"""Start-up refuses a libvips without the encoders we promise, and reports what it found."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from service import app as app_module
from service.imaging.tasks import LibvipsInfo
from service.settings import load_settings


def test_startup_fails_fast_when_an_encoder_is_missing(monkeypatch):
    closed = []

    class PoolWithoutAvif:
        def __init__(self, size, max_waiting, **settings):
            self.capacity = size

        async def start(self):
            return LibvipsInfo("8.18.7", ("heifsave_buffer",), True, 1, 0)

        async def close(self):
            closed.append(True)

    monkeypatch.setattr(app_module, "WorkerPool", PoolWithoutAvif)
    application = app_module.create_app(load_settings({"WORKERS": "1"}))

    async def start() -> None:
        async with application.lifespan():
            pass

    # In its own thread: Playwright's sync API may have left an event loop on this one.
    with pytest.raises(BaseException) as raised, ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, start()).result()
    errors = _flatten(raised.value)
    assert any(isinstance(e, app_module.StartupError) and "heifsave_buffer" in str(e) for e in errors), errors
    assert closed == [True]


def _flatten(exc: BaseException) -> list[BaseException]:
    """Litestar runs the lifespan in a task group, which wraps the error in an ExceptionGroup."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _flatten(inner)]
    return [exc]


def test_the_app_serves_both_pages_and_starts_its_engine_with_the_pool():
    from appclient import running_app

    with running_app() as (client, app):
        for path, page in (("/", "index.html"), ("/batch", "batch.html")):
            r = client.get(path)
            assert r.status_code == 200 and r.content == (app_module.WEB_DIR / page).read_bytes()
            assert r.headers["content-type"] == "text/html; charset=utf-8" and r.headers["cache-control"] == "no-cache"
        assert app.state.engine.pool.size == 1 and app.state.draining is False
