"""The ASGI layers around the whole Litestar app, outermost first: access log and metrics,
security (headers, API keys, CORS), early admission. Outside the app, so that answers its router
gives on its own (404, 405) are logged, counted and carry the security headers too."""

from __future__ import annotations

from litestar import Litestar

from ..settings import Settings
from .admission import EarlyAdmissionMiddleware
from .asgi import ASGIApp
from .middleware import AccessMiddleware
from .security import SecurityMiddleware

__all__ = ["edge"]


def edge(app: Litestar, settings: Settings) -> ASGIApp:
    inner: ASGIApp = app  # type: ignore[assignment]  # Litestar's TypedDict messages are plain dicts at run time
    return AccessMiddleware(SecurityMiddleware(EarlyAdmissionMiddleware(inner, settings, app), settings))
