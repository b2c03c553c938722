"""POST /api/convert: one image in, one converted image out."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post

from ..engine import Engine, searched
from ..grid.layout import output_name
from ..imaging.formats import OutputFormat
from ..imaging.parsing import parse_options
from .accept import accepted_formats
from .disconnect import unless_client_leaves
from .disposition import content_disposition
from .inputs import read_upload
from .openapi import UPLOAD_ERRORS, route_doc

__all__ = ["DESCRIPTION", "convert"]

DESCRIPTION = (
    "Converts one image. Send it as the raw body (Content-Type image/*) or as the multipart field "
    "`image`; options as query parameters or form fields. Answers the converted bytes with "
    "`X-Image-Width`/`X-Image-Height`, `X-Quality` (the encoder quality used, when the format has one), "
    "`X-Quality-Score` with score=true or min_score, `X-Encode-Attempts` with max_bytes or min_score, "
    "and `Vary: Accept` when format=auto."
)


@post(
    "/api/convert",
    summary="Convert one image",
    description=DESCRIPTION,
    tags=["convert"],
    status_code=200,
    opt=route_doc(options="convert", success="image", errors=UPLOAD_ERRORS, operation_id="convert"),
)
async def convert(request: Request[Any, Any, Any]) -> Response[bytes]:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    options = parse_options(
        upload.fields,
        accepted=accepted_formats(request.headers.get("accept")),
        max_dimension=engine.settings.max_output_dimension,
    )
    result = await unless_client_leaves(request, engine.convert(upload.data, options))
    fmt = OutputFormat(result.format)
    quality = result.quality if searched(options) else options.quality  # a search names the quality it found
    name = output_name(upload.stem, result.width, result.height, quality, fmt)
    headers = {
        "Content-Disposition": content_disposition("inline", name),
        "X-Image-Width": str(result.width),
        "X-Image-Height": str(result.height),
        "X-Input-Width": str(result.input_width),
        "X-Input-Height": str(result.input_height),
        "X-Input-Bytes": str(len(upload.data)),
    }
    if result.quality is not None:
        headers["X-Quality"] = str(result.quality)
    if result.score is not None:
        headers["X-Quality-Score"] = f"{result.score:.4f}"
    if searched(options):
        headers["X-Encode-Attempts"] = str(result.attempts)
    if options.format == "auto":
        headers["Vary"] = "Accept"
    return Response(result.data, media_type=fmt.mime, headers=headers)
