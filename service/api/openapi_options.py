"""The OpenAPI schemas of the options: one parameter per option with its type, range, choices and
default per format, and the upload body (raw image types or multipart with the options as fields),
all derived from the option table (`imaging/options.py`)."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Parameter, RequestBody, Schema

from ..imaging.domains import MAX_DIMENSION, Domain, OptionSpec
from ..imaging.formats import OutputFormat
from .seedfields import SEED_PRESETS

__all__ = [
    "RAW_IMAGE_TYPES",
    "binary_schema",
    "domain_schema",
    "option_description",
    "option_parameter",
    "option_schema",
    "upload_body",
]

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


def _form_properties(specs: Sequence[OptionSpec], options: str, max_dimension: int) -> dict[str, Schema]:
    props: dict[str, Schema] = {"image": binary_schema("The image file")}
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


def upload_body(specs: Sequence[OptionSpec], options: str, max_dimension: int) -> RequestBody:
    multipart = Schema(
        type=OpenAPIType.OBJECT,
        properties=dict(_form_properties(specs, options, max_dimension)),
        required=["image"],
    )
    content = {"multipart/form-data": OpenAPIMediaType(schema=multipart)}
    if options != "seed":  # the original's routes only ever took multipart
        for media in RAW_IMAGE_TYPES:
            content[media] = OpenAPIMediaType(schema=binary_schema())
    return RequestBody(
        required=True,
        description="The image: the raw body with its image Content-Type, or the multipart field `image` "
        "(other fields are options, as the query parameters).",
        content=content,
    )


def binary_schema(description: str | None = None) -> Schema:
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)
