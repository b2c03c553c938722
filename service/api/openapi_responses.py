"""The OpenAPI responses: image, ZIP and text success bodies, msgspec Structs as JSON bodies, and
the error responses in the shapes api/errors.py answers."""

from __future__ import annotations

from collections.abc import Mapping
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

from ..imaging.formats import OutputFormat
from .openapi_options import binary_schema

__all__ = ["ErrorShape", "add_json_model", "error_response", "error_schemas", "image_response", "zip_or_json"]

ErrorShape = Literal["json", "seed", "success"]  # success: the error answers the success body (/ready)
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


def add_json_model(components: Components, operation: Operation, model: type) -> None:
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


def error_response(status: int, shape: ErrorShape) -> OpenAPIResponse:
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


def error_schemas() -> Mapping[str, Schema]:
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
