"""`/schema` without the internet: Swagger UI's files come from the `swagger-ui-py` wheel
(Apache-2.0, its LICENSE served beside them) instead of a CDN, so the documentation renders
where the service runs behind a firewall, and no visitor's browser calls a third party."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin

__all__ = ["ASSETS_PATH", "docs_asset", "render_plugin"]

ASSETS_PATH = "/schema-assets"
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain",
}


def _static_dir() -> Path:
    # Found without importing the package: its __init__ pulls in jinja2 and yaml we do not need.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (a dependency of this service)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def render_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        path="/",
    )


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def docs_asset(name: str) -> Response[bytes]:
    media_type = _FILES.get(name)
    if media_type is None:
        raise NotFoundException(f"No documentation asset {name!r}")
    data = (_static_dir() / name).read_bytes()
    return Response(data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
