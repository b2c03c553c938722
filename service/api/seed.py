"""The original Node service's routes, so its clients keep working unchanged.

`POST /api/process` and `POST /api/preview` take its multipart fields (`image`, `width`, `height`,
`quality`, `format` and the JPEG flags as the strings 'true'/'false'), resize with fit inside and
no enlargement, and answer its shapes. Unlike the original, client mistakes get a 4xx.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import msgspec
from litestar import Request, Response, post

from ..engine import Engine
from ..imaging.formats import OutputFormat
from ..imaging.options import OPTION_BY_NAME, SEED_NAMES, ConvertOptions
from ..imaging.parsing import parse_options
from .disconnect import unless_client_leaves
from .errors import seed_error_handler
from .inputs import read_upload
from .openapi import UPLOAD_ERRORS, route_doc
from .seedfields import SEED_PRESETS

__all__ = ["DEFAULT_QUALITY", "PreviewResponse", "preview", "process"]

# The original's field names (camelCase JPEG flags) -> ours, from the option table.
_JPEG_FLAGS = {seed: ours for seed, ours in SEED_NAMES.items() if OPTION_BY_NAME[ours].group == "encoder"}
_FIELDS = frozenset({*SEED_NAMES, *(preset.name for preset in SEED_PRESETS)})
DEFAULT_QUALITY = "80"  # the original: parseInt(quality) || 80, for every format


class PreviewResponse(msgspec.Struct):
    success: bool
    preview: str
    originalSize: int
    processedSize: int
    sizeReduction: int
    sizeReductionPercent: str
    width: int
    height: int
    format: str


def _options(fields: dict[str, str], engine: Engine) -> ConvertOptions:
    # The original parsed with parseInt(...) || default: empty strings mean "not given".
    given = {k: v for k, v in fields.items() if v.strip() != ""}
    params: dict[str, str] = {k: given[k] for k in ("width", "height", "quality") if k in given}
    params["quality"] = params.get("quality", DEFAULT_QUALITY)
    params["format"] = given.get("format", "jpeg")
    jpeg = params["format"].lower() == "jpeg"
    if jpeg:
        for seed_name, ours in _JPEG_FLAGS.items():
            if seed_name in given:
                params[ours] = given[seed_name]
        for preset in SEED_PRESETS:
            if given.get(preset.name, "false").lower() == "true":
                params.update(preset.values)
    for name in given:
        if name not in _FIELDS:
            params[name] = given[name]  # let the parser name the unknown field
    if params["format"].lower() == "auto":
        params["format"] = "jpeg:auto"  # not in the original contract: rejected by the parser
    return parse_options(params, max_dimension=engine.settings.max_output_dimension)


@post(
    "/api/process",
    summary="Original service: convert and download",
    tags=["compatibility"],
    exception_handlers={Exception: seed_error_handler},
    status_code=200,
    opt=route_doc(options="seed", success="image", errors=UPLOAD_ERRORS, error_shape="seed", operation_id="process"),
)
async def process(request: Request[Any, Any, Any]) -> Response[bytes]:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    options = _options(upload.fields, engine)
    result = await unless_client_leaves(request, engine.convert(upload.data, options))
    fmt = OutputFormat(result.format)
    name = f"image_{result.width}x{result.height}_q{options.quality}_{int(time.time() * 1000)}.{fmt.value}"
    return Response(
        result.data,
        media_type=fmt.mime,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Image-Width": str(result.width),
            "X-Image-Height": str(result.height),
        },
    )


@post(
    "/api/preview",
    summary="Original service: convert and answer a data URL with sizes",
    tags=["compatibility"],
    exception_handlers={Exception: seed_error_handler},
    status_code=200,
    opt=route_doc(options="seed", errors=UPLOAD_ERRORS, error_shape="seed", operation_id="preview"),
)
async def preview(request: Request[Any, Any, Any]) -> PreviewResponse:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    result = await unless_client_leaves(request, engine.convert(upload.data, _options(upload.fields, engine)))
    original, processed = len(upload.data), len(result.data)
    reduction = original - processed
    mime = OutputFormat(result.format).mime
    return PreviewResponse(
        success=True,
        preview=f"data:{mime};base64,{base64.b64encode(result.data).decode()}",
        originalSize=original,
        processedSize=processed,
        sizeReduction=reduction,
        sizeReductionPercent=f"{reduction / original * 100:.2f}",
        width=result.width,
        height=result.height,
        format=result.format,
    )
