"""The OpenAPI description of the routes that take an upload and options, derived from the option table.

Options arrive as query parameters or form fields read by one parser, not as handler arguments,
so Litestar cannot see them. A handler says what it takes with `opt=route_doc(...)`; after the app
is built, `document_routes` writes typed parameters (ranges, enums, defaults), the request bodies
(raw image types and multipart), the real response media types and the error schema on every
4xx/5xx the route can answer, all from `imaging/options.py`.
The option parameters and upload bodies come from `openapi_options.py`, the response and error
schemas from `openapi_responses.py`.

    @post("/api/jobs", status_code=202, opt=route_doc(options="batch", errors=(*UPLOAD_ERRORS, STORAGE_FULL)))
    async def submit(request: Request[Any, Any, Any]) -> JobStatus: ...

    @get("/api/jobs/{job_id:str}/archive", opt=route_doc(success="zip", errors=(JOB_NOT_FOUND,)))

A route names the error codes it can answer (service/errors.py); their statuses become its error
responses, each with the codes of that status as the `code` enum.
`create_app` calls `document_routes` once; a new route needs only its `opt=`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from litestar import Litestar
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Parameter, Schema
from litestar.routes import HTTPRoute

from ..errors import (
    BAD_REQUEST,
    DEADLINE,
    DEADLINE_EXCEEDED,
    INTERNAL_ERROR,
    INVALID_OPTION,
    MAX_BYTES_UNREACHABLE,
    MIN_SCORE_UNREACHABLE,
    OVERLOADED,
    PAYLOAD_TOO_LARGE,
    SHUTTING_DOWN,
    TOO_MANY_PARTS,
    UNPROCESSABLE,
    UNSUPPORTED_MEDIA,
    WORKER_CRASHED,
    Code,
)
from ..imaging.domains import MAX_DIMENSION, OptionSpec
from ..imaging.options import BATCH_OPTIONS, CONVERT_OPTIONS
from .errors import HTTP_CODES
from .openapi_options import option_parameter, upload_body
from .openapi_responses import ErrorShape, add_json_model, error_response, error_schemas, image_response, zip_or_json

OptionSet = Literal["none", "convert", "batch", "seed"]
Success = Literal["keep", "image", "zip", "zip_or_json", "text"]

__all__ = ["OPT_KEY", "UPLOAD_ERRORS", "RouteDoc", "document_routes", "route_doc"]

OPT_KEY = "openapi_route_doc"
# What a route that reads an upload and runs a conversion can answer besides success.
UPLOAD_ERRORS: tuple[Code, ...] = (
    INVALID_OPTION,
    BAD_REQUEST,
    PAYLOAD_TOO_LARGE,
    TOO_MANY_PARTS,
    UNSUPPORTED_MEDIA,
    UNPROCESSABLE,
    MAX_BYTES_UNREACHABLE,
    MIN_SCORE_UNREACHABLE,
    INTERNAL_ERROR,
    OVERLOADED,
    DEADLINE,
    WORKER_CRASHED,
    SHUTTING_DOWN,
    DEADLINE_EXCEEDED,
)


@dataclass(frozen=True)
class RouteDoc:
    options: OptionSet = "none"  # which options the route reads (query parameters and form fields)
    upload: bool = False  # the image as a raw body or as the multipart field `image`
    success: Success = "keep"  # keep: Litestar's from the return type; image: image/*; zip_or_json
    errors: tuple[Code, ...] = ()  # the error codes the route can answer
    error_shape: ErrorShape = "json"
    json_model: type | None = None  # the JSON success body, when Litestar cannot see it in the return type
    operation_id: str | None = None  # names the generated client's function (else Litestar's ApiXxxYyy)
    exclude: tuple[str, ...] = ()  # options of the set this route does not read (jobs: "response")
    # Non-2xx statuses answered with the success body, and what each means (/ready's 503).
    success_statuses: Mapping[int, str] | None = None


def route_doc(
    *,
    options: OptionSet = "none",
    upload: bool | None = None,
    success: Success = "keep",
    errors: Iterable[Code] = (),
    error_shape: ErrorShape = "json",
    json_model: type | None = None,
    operation_id: str | None = None,
    exclude: Iterable[str] = (),
) -> dict[str, RouteDoc]:
    """The `opt=` of a route handler: what `document_routes` writes into its OpenAPI operation.
    `upload` defaults to true when the route reads options (they come with the image)."""
    doc = RouteDoc(
        options=options,
        upload=options != "none" if upload is None else upload,
        success=success,
        errors=tuple(dict.fromkeys(errors)),
        error_shape=error_shape,
        json_model=json_model,
        operation_id=operation_id,
        exclude=tuple(exclude),
    )
    return {OPT_KEY: doc}


def document_routes(
    app: Litestar, *, max_dimension: int = MAX_DIMENSION, by_path: Mapping[str, RouteDoc] | None = None
) -> None:
    """Write every `route_doc` into the app's OpenAPI schema (call once, after the app is built).
    `by_path` documents routes whose handler does not carry a `route_doc` itself."""
    schema = app.openapi_schema
    schema.components.schemas.update(error_schemas())
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or schema.paths is None:
            continue
        item = schema.paths.get(route.path_format or "/")
        if item is None:
            continue
        for handler in route.route_handlers:
            doc = handler.opt.get(OPT_KEY)
            if doc is None and by_path:
                doc = by_path.get(route.path_format or "/")
            if not isinstance(doc, RouteDoc):
                doc = RouteDoc()  # still: Litestar's own error responses become ours
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation):
                    _apply(operation, doc, max_dimension)
                    if doc.json_model is not None:
                        add_json_model(schema.components, operation, doc.json_model)


def _apply(operation: Operation, doc: RouteDoc, max_dimension: int) -> None:
    if doc.operation_id:
        operation.operation_id = doc.operation_id
    specs = tuple(spec for spec in _specs(doc.options) if spec.name not in doc.exclude)
    if doc.options != "seed" and specs:
        existing = list(operation.parameters or [])
        taken = {p.name for p in existing if isinstance(p, Parameter)}
        existing += [option_parameter(spec, max_dimension) for spec in specs if spec.name not in taken]
        operation.parameters = existing
    if doc.upload:
        operation.request_body = upload_body(specs, doc.options, max_dimension)
    responses = dict(operation.responses or {})
    ok = next((code for code in responses if code.startswith("2")), "200")
    if doc.success == "image":
        responses[ok] = image_response()
    elif doc.success == "zip_or_json":
        responses[ok] = zip_or_json(responses.get(ok))
    elif doc.success == "zip":
        responses[ok] = zip_or_json(None)
    elif doc.success == "text":
        text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
        responses[ok] = OpenAPIResponse(description="Plain text", content={"text/plain": text})
    # Every error leaves through our handlers (api/errors.py), in our shape: Litestar's own
    # validation-error schema for a 400 would describe a body the service never sends.
    by_status: dict[int, list[Code]] = {}
    for status in (int(code) for code in responses if code[:1] in ("4", "5")):
        by_status.setdefault(status, []).append(HTTP_CODES.get(status, INTERNAL_ERROR))
    for code in doc.errors:
        if code not in by_status.setdefault(code.status, []):
            by_status[code.status].append(code)
    for status in sorted(by_status):
        responses[str(status)] = error_response(by_status[status], doc.error_shape)
    success = responses.get(ok)
    for status, description in (doc.success_statuses or {}).items():
        if isinstance(success, OpenAPIResponse):
            responses[str(status)] = OpenAPIResponse(description=description, content=success.content)
    operation.responses = responses


def _specs(options: OptionSet) -> tuple[OptionSpec, ...]:
    if options == "convert":
        return CONVERT_OPTIONS
    if options == "batch":
        return CONVERT_OPTIONS + BATCH_OPTIONS
    if options == "seed":
        return tuple(spec for spec in CONVERT_OPTIONS if spec.seed_name)
    return ()
