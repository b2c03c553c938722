"""The OpenAPI responses: image, ZIP and text success bodies, msgspec Structs as JSON bodies, and
the error responses in the shapes api/errors.py answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from ..errors import Code, client_codes
from ..imaging.formats import OutputFormat
from .errors import ErrorResponse, SeedError
from .openapi_options import binary_schema

_REF = "#/components/schemas/{name}"

__all__ = ["ErrorShape", "add_json_model", "error_response", "error_schemas", "image_response", "zip_or_json"]

ErrorShape = Literal["json", "seed"]  # seed: the original service's {"success": false, "error"}


def add_json_model(components: Components, operation: Operation, model: type) -> None:
    """Describe a msgspec Struct success body with msgspec's own JSON schema."""
    (ref,), defs = msgspec.json.schema_components([model], ref_template=_REF)
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
            kwargs["type"] = [OpenAPIType(v) for v in value] if isinstance(value, list) else OpenAPIType(value)
        elif key == "properties":
            kwargs["properties"] = {k: _to_ref_or_schema(v) for k, v in value.items()}
        elif key == "items":
            kwargs["items"] = _to_ref_or_schema(value)
        elif key in _KEYS:
            kwargs[_KEYS[key]] = [_to_ref_or_schema(v) for v in value]
        elif key in ("required", "title", "description", "default", "enum", "minimum", "maximum", "format"):
            kwargs[key] = value
    return Schema(**kwargs)


_SIZE_HEADERS = {
    "X-Image-Width": "Output width in pixels",
    "X-Image-Height": "Output height in pixels",
}


def image_response() -> OpenAPIResponse:
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
        content={fmt.mime: OpenAPIMediaType(schema=binary_schema()) for fmt in OutputFormat},
    )


def zip_or_json(existing: OpenAPIResponse | Reference | None) -> OpenAPIResponse:
    """A ZIP, and the JSON body Litestar found (if any) for the same success status."""
    content: dict[str, OpenAPIMediaType] = {"application/zip": OpenAPIMediaType(schema=binary_schema())}
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


def error_response(codes: Sequence[Code], shape: ErrorShape) -> OpenAPIResponse:
    """The response of one error status, given its codes: what each means, Retry-After when one
    of them carries it, and the error shape with `code` limited to these codes."""
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if any(code.retry_after is not None for code in codes):
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before retrying"
            )
        }
    description = "; ".join(f"{code.name}: {code.meaning}" for code in codes) or "Error"
    schema: Schema | Reference
    if shape == "seed":  # the original service's shape has no code
        schema = Reference(ref="#/components/schemas/SeedError")
    else:
        body = _to_schema(_ERROR_DEFINITIONS["ErrorBody"])
        body.title = None
        properties = dict(body.properties or {})
        properties["code"] = Schema(
            type=OpenAPIType.STRING, enum=[code.name for code in codes], description="Machine-readable"
        )
        body.properties = properties
        schema = Schema(type=OpenAPIType.OBJECT, properties={"error": body}, required=["error"])
    return OpenAPIResponse(
        description=description, headers=headers, content={"application/json": OpenAPIMediaType(schema=schema)}
    )


_ERROR_DEFINITIONS = msgspec.json.schema_components([ErrorResponse, SeedError], ref_template=_REF)[1]


def error_schemas() -> Mapping[str, Schema]:
    """The error shapes as components (ErrorResponse, ErrorBody, Allowed, SeedError), from their
    Structs in api/errors.py; ErrorBody's `code` is any registered code a client reads."""
    schemas = {name: _to_schema(definition) for name, definition in _ERROR_DEFINITIONS.items()}
    body = schemas["ErrorBody"]
    body.properties = dict(body.properties or {})
    body.properties["code"] = Schema(
        type=OpenAPIType.STRING, enum=[code.name for code in client_codes()], description="Machine-readable"
    )
    return schemas
