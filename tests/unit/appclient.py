"""The whole application in this process, with a real worker pool, behind litestar's TestClient:
for the module tests of handlers and ASGI layers that need the app around them."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

import pyvips
from litestar import Litestar
from litestar.testing import TestClient

from service.api.edge import edge
from service.app import create_app
from service.settings import load_settings


@contextlib.contextmanager
def running_app(env: dict[str, str] | None = None) -> Iterator[tuple[TestClient[Litestar], Litestar]]:
    """A TestClient on the app wrapped in its edge layers (as `python -m service` serves it); the
    lifespan runs, so the pool's one worker is up before the first request."""
    with tempfile.TemporaryDirectory() as storage:
        settings = load_settings({"WORKERS": "1", "STORAGE_DIR": storage, **(env or {})})
        app = create_app(settings)
        with TestClient(app=edge(app, settings), raise_server_exceptions=False) as client:  # type: ignore[arg-type]
            yield client, app


def jpeg(width: int, height: int) -> bytes:
    gradient = pyvips.Image.xyz(width, height)[0].cast("uchar")
    return bytes(gradient.bandjoin([gradient, gradient]).copy(interpretation="srgb").jpegsave_buffer(Q=90))
