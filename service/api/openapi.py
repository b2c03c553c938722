"""The OpenAPI description of the routes that take an upload and options, derived from the option table.

Options arrive as query parameters or form fields read by one parser, not as handler arguments,
so Litestar cannot see them. A handler says what it takes with `opt=route_doc(...)`; after the app
is built, `document_routes` writes typed parameters (ranges, enums, defaults), the request bodies
(raw image types and multipart), the real response media types and the error schema on every
4xx/5xx the route can answer, all from `imaging/options.py`.

    @post("/api/jobs", status_code=202, opt=route_doc(options="batch", errors=UPLOAD_ERRORS + (507,)))
    async def submit(request: Request[Any, Any, Any]) -> JobStatus: ...

    @get("/api/jobs/{job_id:str}/archive", opt=route_doc(success="zip", errors=(404,)))

`create_app` calls `document_routes` once; a new route needs only its `opt=`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Components,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from ..imaging.domains import MAX_DIMENSION, Domain, OptionSpec
from ..imaging.formats import OutputFormat
from ..imaging.options import BATCH_OPTIONS, CONVERT_OPTIONS
from .seedfields import SEED_PRESETS

OptionSet = Literal["none", "convert", "batch", "seed"]
Success = Literal["keep", "image", "zip", "zip_or_json", "text"]
ErrorShape = Literal["json", "seed", "success"]  # success: the error answers the success body (/ready)

OPT_KEY = "openapi_route_doc"
# What a route that reads an upload and runs a conversion can answer besides success.
UPLOAD_ERRORS: tuple[int, ...] = (400, 413, 415, 422, 500, 503, 504)
# Media types documented for a raw body: the formats the loaders accept. The reader (inputs.py) takes
# any image/* or octet-stream and lets the bytes decide; other types are refused with 415 unread.
RAW_IMAGE_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/avif",
    "image/heif",
    "image/tiff",
    "image/gif",
    "application/octet-stream",
)
_STATUS_TEXT = {
    400: "Unknown option, value out of range or of the wrong type, or an option that does not apply to the format",
    404: "Not found",
    413: "Upload larger than MAX_UPLOAD_BYTES, or more outputs than the limit",
    415: "Not an accepted image type",
    422: "Corrupt or truncated image, or more pixels than MAX_INPUT_PIXELS",
    500: "Internal error (logged)",
    503: "At capacity, worker died, or shutting down; retry after Retry-After seconds",
    504: "The conversion did not finish before REQUEST_DEADLINE_SECONDS",
    507: "Storage full",
}


@dataclass(frozen=True)
class RouteDoc:
    options: OptionSet = "none"  # which options the route reads (query parameters and form fields)
    upload: bool = False  # the image as a raw body or as the multipart field `image`
    success: Success = "keep"  # keep: Litestar's from the return type; image: image/*; zip_or_json
    errors: tuple[int, ...] = ()
    error_shape: ErrorShape = "json"
    json_model: type | None = None  # the JSON success body, when Litestar cannot see it in the return type
    operation_id: str | None = None  # names the generated client's function (else Litestar's ApiXxxYyy)
    exclude: tuple[str, ...] = ()  # options of the set this route does not read (jobs: "response")
    descriptions: Mapping[int, str] | None = None  # what an error status means here, when not the usual


def route_doc(
    *,
    options: OptionSet = "none",
    upload: bool | None = None,
    success: Success = "keep",
    errors: Iterable[int] = (),
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
        errors=tuple(sorted(set(errors))),
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
    schema.components.schemas.update(_error_schemas())
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
                        _add_json_model(schema.components, operation, doc.json_model)


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
        operation.request_body = _upload_body(specs, doc.options, max_dimension)
    responses = dict(operation.responses or {})
    ok = next((code for code in responses if code.startswith("2")), "200")
    if doc.success == "image":
        responses[ok] = _image_response()
    elif doc.success == "zip_or_json":
        responses[ok] = _zip_or_json(responses.get(ok))
    elif doc.success == "zip":
        responses[ok] = _zip_or_json(None)
    elif doc.success == "text":
        text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
        responses[ok] = OpenAPIResponse(description="Plain text", content={"text/plain": text})
    # Every error leaves through our handlers (api/errors.py), in our shape: Litestar's own
    # validation-error schema for a 400 would describe a body the service never sends.
    litestar_errors = {int(code) for code in responses if code[:1] in ("4", "5")}
    for status in sorted(litestar_errors | set(doc.errors)):
        response = _error_response(status, doc.error_shape)
        success = responses.get(ok)
        if doc.error_shape == "success" and isinstance(success, OpenAPIResponse):
            response.content, response.headers = success.content, None
        if doc.descriptions and status in doc.descriptions:
            response.description = doc.descriptions[status]
        responses[str(status)] = response
    operation.responses = responses


def _add_json_model(components: Components, operation: Operation, model: type) -> None:
    """Describe a msgspec Struct success body with msgspec's own JSON schema."""
    (ref,), defs = msgspec.json.schema_components([model], ref_template="#/components/schemas/{name}")
    for name, definition in defs.items():
        components.schemas.setdefault(name, _to_schema(definition))
    for status, response in (operation.responses or {}).items():
        if not status.startswith("2") or not isinstance(response, OpenAPIResponse) or not response.content:
            continue
        if "application/json" in response.content:
            response.content["application/json"] = OpenAPIMediaType(schema=_to_ref_or_schema(ref))


_KEYS = {"anyOf": "any_of", "oneOf": "one_of", "allOf": "all_of"}


def _to_ref_or_schema(node: Mapping[str, Any]) -> Schema | Reference:
    if "$ref" in node:
        return Reference(ref=node["$ref"])
    return _to_schema(node)


def _to_schema(node: Mapping[str, Any]) -> Schema:
    """msgspec's JSON schema (a dict) as Litestar's Schema objects, for the keys msgspec emits."""
    kwargs: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type":
            kwargs["type"] = OpenAPIType(value)
        elif key == "properties":
            kwargs["properties"] = {k: _to_ref_or_schema(v) for k, v in value.items()}
        elif key == "items":
            kwargs["items"] = _to_ref_or_schema(value)
        elif key in _KEYS:
            kwargs[_KEYS[key]] = [_to_ref_or_schema(v) for v in value]
        elif key in ("required", "title", "description", "default", "enum", "minimum", "maximum", "format"):
            kwargs[key] = value
    return Schema(**kwargs)


def _specs(options: OptionSet) -> tuple[OptionSpec, ...]:
    if options == "convert":
        return CONVERT_OPTIONS
    if options == "batch":
        return CONVERT_OPTIONS + BATCH_OPTIONS
    if options == "seed":
        return tuple(spec for spec in CONVERT_OPTIONS if spec.seed_name)
    return ()


# --- options -> schemas ------------------------------------------------------------------------


def domain_schema(domain: Domain, max_dimension: int = MAX_DIMENSION, *, with_default: bool = True) -> Schema:
    """The JSON schema of the values one domain accepts."""
    default = domain.default if with_default else None
    if domain.kind == "bool":
        return Schema(type=OpenAPIType.BOOLEAN, default=default)
    if domain.kind == "choice":
        return Schema(type=OpenAPIType.STRING, enum=list(domain.choices), default=default)
    kind = OpenAPIType.INTEGER if domain.kind == "int" else OpenAPIType.NUMBER
    if domain.choices:
        return Schema(type=kind, enum=[int(c) for c in domain.choices], default=default)
    return Schema(type=kind, minimum=domain.minimum, maximum=domain.upper(max_dimension), default=default)


def option_schema(spec: OptionSpec, max_dimension: int = MAX_DIMENSION) -> Schema:
    """One schema for an option over every format: per-format ranges are merged (widest bounds),
    equal choices merged, different kinds become oneOf.

    A `default` is only stated for an option every format takes with the same default: generated
    clients send stated defaults, and a JPEG-only option sent with format=webp is refused.
    """
    first = spec.domains[0]
    stated = spec.formats == frozenset(OutputFormat) and len({repr(d.default) for d in spec.domains}) == 1
    same_shape = len({(d.kind, d.choices) for d in spec.domains}) == 1
    if same_shape and (first.kind in ("bool", "choice") or first.choices):
        item = domain_schema(first, max_dimension, with_default=stated)
    elif same_shape:
        lows = [d.minimum for d in spec.domains if d.minimum is not None]
        highs = [hi for d in spec.domains if (hi := d.upper(max_dimension)) is not None]
        kind = OpenAPIType.INTEGER if first.kind == "int" else OpenAPIType.NUMBER
        item = Schema(type=kind, minimum=min(lows), maximum=max(highs), default=first.default if stated else None)
    else:
        item = Schema(one_of=[domain_schema(d, max_dimension, with_default=False) for d in spec.domains])
    if spec.repeated:
        item.default = None
        return Schema(type=OpenAPIType.ARRAY, items=item)
    return item


def option_description(spec: OptionSpec, max_dimension: int = MAX_DIMENSION) -> str:
    """The option's description with, per format, what it accepts and its default."""
    parts = []
    for domain in spec.domains:
        formats = (
            "all formats"
            if len(domain.formats) == len(OutputFormat)
            else "/".join(f.value for f in OutputFormat if f in domain.formats)
        )
        text = f"{formats}: {domain.describe(max_dimension)}"
        if domain.when:
            text += f" ({domain.describe_when()})"
        if domain.default is not None:
            text += f", default {_show(domain.default)}"
        parts.append(text)
    return f"{spec.description} ({'; '.join(parts)})"


def _show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def option_parameter(spec: OptionSpec, max_dimension: int = MAX_DIMENSION) -> Parameter:
    return Parameter(
        name=spec.name,
        param_in="query",
        required=False,
        schema=option_schema(spec, max_dimension),
        description=option_description(spec, max_dimension),
        style="form" if spec.repeated else None,
        explode=True if spec.repeated else None,
    )


def _form_properties(specs: Sequence[OptionSpec], options: OptionSet, max_dimension: int) -> dict[str, Schema]:
    props: dict[str, Schema] = {"image": _binary("The image file")}
    for spec in specs:
        name = spec.seed_name if options == "seed" and spec.seed_name else spec.name
        schema = option_schema(spec, max_dimension)
        if options == "seed" and spec.name == "format" and schema.enum:
            schema.enum = [v for v in schema.enum if v != "auto"]  # not in the original's contract
        schema.description = option_description(spec, max_dimension)
        props[name] = schema
    if options == "seed":
        for preset in SEED_PRESETS:
            props[preset.name] = Schema(type=OpenAPIType.BOOLEAN, default=False, description=preset.description)
    return props


def _upload_body(specs: Sequence[OptionSpec], options: OptionSet, max_dimension: int) -> RequestBody:
    multipart = Schema(
        type=OpenAPIType.OBJECT,
        properties=dict(_form_properties(specs, options, max_dimension)),
        required=["image"],
    )
    content = {"multipart/form-data": OpenAPIMediaType(schema=multipart)}
    if options != "seed":  # the original's routes only ever took multipart
        for media in RAW_IMAGE_TYPES:
            content[media] = OpenAPIMediaType(schema=_binary())
    return RequestBody(
        required=True,
        description="The image: the raw body with its image Content-Type, or the multipart field `image` "
        "(other fields are options, as the query parameters).",
        content=content,
    )


def _binary(description: str | None = None) -> Schema:
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)


# --- responses ---------------------------------------------------------------------------------

_SIZE_HEADERS = {
    "X-Image-Width": "Output width in pixels",
    "X-Image-Height": "Output height in pixels",
}


def _image_response() -> OpenAPIResponse:
    headers: dict[str, OpenAPIHeader | Reference] = {
        name: OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER), description=text)
        for name, text in _SIZE_HEADERS.items()
    }
    headers["Content-Disposition"] = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING), description="The output's file name"
    )
    return OpenAPIResponse(
        description="The converted image, in the media type of the format asked for",
        headers=headers,
        content={fmt.mime: OpenAPIMediaType(schema=_binary()) for fmt in OutputFormat},
    )


def _zip_or_json(existing: OpenAPIResponse | Reference | None) -> OpenAPIResponse:
    """A ZIP, and the JSON body Litestar found (if any) for the same success status."""
    content: dict[str, OpenAPIMediaType] = {"application/zip": OpenAPIMediaType(schema=_binary())}
    if isinstance(existing, OpenAPIResponse) and existing.content:
        json = existing.content.get("application/json")
        if json is not None:
            content["application/json"] = json
    if len(content) == 1:
        return OpenAPIResponse(description="A ZIP archive of the outputs", content=content)
    return OpenAPIResponse(
        description="A ZIP streamed as outputs finish (default), or with response=json a JSON manifest",
        content=content,
    )


def _error_response(status: int, shape: ErrorShape) -> OpenAPIResponse:
    name = "ErrorResponse" if shape == "json" else "SeedError"
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status == 503:
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before retrying"
            )
        }
    return OpenAPIResponse(
        description=_STATUS_TEXT.get(status, "Error"),
        headers=headers,
        content={"application/json": OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{name}"))},
    )


def _error_schemas() -> Mapping[str, Schema]:
    text = Schema(type=OpenAPIType.STRING)
    nullable_text = Schema(one_of=[Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.NULL)])
    body = Schema(
        type=OpenAPIType.OBJECT,
        title="ErrorBody",
        properties={
            "status": Schema(type=OpenAPIType.INTEGER, description="The HTTP status"),
            "code": Schema(type=OpenAPIType.STRING, description="Machine-readable: invalid_option, overloaded, ..."),
            "message": Schema(type=OpenAPIType.STRING, description="What went wrong and how to fix it"),
            "field": nullable_text,
            "allowed": text,
            "received": text,
        },
        required=["status", "code", "message"],
    )
    return {
        "ErrorBody": body,
        "ErrorResponse": Schema(
            type=OpenAPIType.OBJECT,
            title="ErrorResponse",
            properties={"error": Reference(ref="#/components/schemas/ErrorBody")},
            required=["error"],
        ),
        "SeedError": Schema(
            type=OpenAPIType.OBJECT,
            title="SeedError",
            description="The original service's error shape",
            properties={"success": Schema(type=OpenAPIType.BOOLEAN), "error": text},
            required=["success", "error"],
        ),
    }
