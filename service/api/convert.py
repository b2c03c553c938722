"""POST /api/convert: one image in, one converted image out."""

from __future__ import annotations

from litestar import Request, Response, post

from ..conversions import Engine, output_name
from ..imaging.formats import OutputFormat
from ..imaging.options import accepted_formats, parse_options
from .disposition import content_disposition
from .disconnect import unless_client_leaves
from .inputs import read_upload
from .openapi import UPLOAD_ERRORS, route_doc

DESCRIPTION = (
    "Converts one image. Send it as the raw body (Content-Type image/*) or as the multipart field "
    "`image`; options as query parameters or form fields. Answers the converted bytes with "
    "`X-Image-Width`/`X-Image-Height`, and `Vary: Accept` when format=auto."
)


@post(
    "/api/convert",
    summary="Convert one image",
    description=DESCRIPTION,
    tags=["convert"],
    status_code=200,
    opt=route_doc(options="convert", success="image", errors=UPLOAD_ERRORS),
)
async def convert(request: Request) -> Response[bytes]:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    options = parse_options(
        upload.fields,
        accepted=accepted_formats(request.headers.get("accept")),
        max_dimension=engine.settings.max_output_dimension,
    )
    result = await unless_client_leaves(request, engine.convert(upload.data, options))
    fmt = OutputFormat(result.format)
    name = output_name(upload.stem, result.width, result.height, options.quality, fmt)
    headers = {
        "Content-Disposition": content_disposition("inline", name),
        "X-Image-Width": str(result.width),
        "X-Image-Height": str(result.height),
        "X-Input-Width": str(result.input_width),
        "X-Input-Height": str(result.input_height),
        "X-Input-Bytes": str(len(upload.data)),
    }
    if options.format == "auto":
        headers["Vary"] = "Accept"
    return Response(result.data, media_type=fmt.mime, headers=headers)
