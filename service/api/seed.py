"""The original Node service's routes, so its clients keep working unchanged.

`POST /api/process` and `POST /api/preview` take its multipart fields (`image`, `width`, `height`,
`quality`, `format` and the JPEG flags as the strings 'true'/'false'), resize with fit inside and
no enlargement, and answer its shapes. Unlike the original, client mistakes get a 4xx.
"""

from __future__ import annotations

import base64
import time

import msgspec
from litestar import Request, Response, post

from ..conversions import Engine
from ..imaging.formats import OutputFormat
from ..imaging.options import parse_options
from .errors import seed_error_handler
from .disconnect import unless_client_leaves
from .inputs import read_upload

# The original's camelCase flags -> our option names. `mozjpeg` is sharp's preset.
_FLAGS = {
    "progressive": "progressive",
    "optimizeScans": "optimize_scans",
    "trellisQuantisation": "trellis_quant",
    "overshootDeringing": "overshoot_deringing",
    "optimizeCoding": "optimize_coding",
}
_MOZJPEG = {"trellis_quant": "true", "overshoot_deringing": "true", "optimize_scans": "true", "quant_table": "3"}
_FIELDS = ("width", "height", "quality", "format", "mozjpeg", *_FLAGS)


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


def _options(fields: dict[str, str], engine: Engine):
    # The original parsed with parseInt(...) || default: empty strings mean "not given".
    given = {k: v for k, v in fields.items() if v.strip() != ""}
    params = {k: given[k] for k in ("width", "height", "quality") if k in given}
    params["quality"] = params.get("quality", "80")
    params["format"] = given.get("format", "jpeg")
    jpeg = params["format"].lower() == "jpeg"
    if jpeg:
        for seed_name, ours in _FLAGS.items():
            if seed_name in given:
                params[ours] = given[seed_name]
        if given.get("mozjpeg", "false").lower() == "true":
            params.update(_MOZJPEG)
    for name in given:
        if name not in _FIELDS:
            params[name] = given[name]  # let the parser name the unknown field
    if params["format"].lower() == "auto":
        params["format"] = "jpeg:auto"  # not in the original contract: rejected by the parser
    return parse_options(params, max_dimension=engine.settings.max_output_dimension)


@post("/api/process", summary="Original service: convert and download", tags=["compatibility"],
      exception_handlers={Exception: seed_error_handler}, status_code=200)
async def process(request: Request) -> Response[bytes]:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    options = _options(upload.fields, engine)
    result = await unless_client_leaves(request, engine.convert(upload.data, options))
    fmt = OutputFormat(result.format)
    name = f"image_{result.width}x{result.height}_q{options.quality}_{int(time.time() * 1000)}.{fmt.value}"
    return Response(result.data, media_type=fmt.mime, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Image-Width": str(result.width),
        "X-Image-Height": str(result.height),
    })


@post("/api/preview", summary="Original service: convert and answer a data URL with sizes", tags=["compatibility"],
      exception_handlers={Exception: seed_error_handler}, status_code=200)
async def preview(request: Request) -> PreviewResponse:
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
