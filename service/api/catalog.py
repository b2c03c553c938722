"""GET /api/options: the option table as JSON, so the browser UI (and any client) renders from it.

`default` is what the API uses when an option is omitted, per format; `ui_defaults` is what the UI
preselects per format; `limits` are this deployment's configured limits. All from the one table.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from ..imaging.domains import Domain, OptionSpec, Value
from ..imaging.formats import OutputFormat
from ..imaging.options import CONVERT_OPTIONS, OPTIONS
from ..settings import Settings

DEFAULT_MAX_JOB_OUTPUTS = 600  # until the jobs' MAX_JOB_OUTPUTS setting exists on this branch


class FormatInfo(msgspec.Struct, frozen=True):
    name: str
    media_type: str
    extension: str
    alpha: bool


class DomainInfo(msgspec.Struct, frozen=True):
    formats: list[str]
    type: str  # int | number | bool | choice
    minimum: int | float | None
    maximum: int | float | None
    choices: list[str | int] | None
    default: Value | None
    # applies only when any one of these holds: {option: [values]} (an omitted option has its default)
    when: list[dict[str, list[Value]]] | None = None


class OptionInfo(msgspec.Struct, frozen=True):
    name: str
    description: str
    group: str  # geometry | output | encoder | batch
    domains: list[DomainInfo]
    repeated: bool = False  # a list: comma separated or repeated
    seed_name: str | None = None  # its name on /api/process and /api/preview


class LimitsInfo(msgspec.Struct, frozen=True):
    max_output_dimension: int
    max_upload_bytes: int
    max_input_pixels: int
    max_batch_outputs: int
    max_job_outputs: int


class OptionsDocument(msgspec.Struct, frozen=True):
    formats: list[FormatInfo]
    options: list[OptionInfo]
    ui_defaults: dict[str, dict[str, Value]]
    limits: LimitsInfo


def _domain(domain: Domain, max_dimension: int) -> DomainInfo:
    choices: list[str | int] | None = None
    if domain.choices:
        choices = [int(c) if domain.kind == "int" else c for c in domain.choices]
    return DomainInfo(
        formats=[f.value for f in OutputFormat if f in domain.formats],
        type=domain.kind,
        minimum=None if domain.kind in ("bool", "choice") else domain.minimum,
        maximum=None if domain.kind in ("bool", "choice") else domain.upper(max_dimension),
        choices=choices,
        default=domain.default,
        when=[{name: list(values) for name, values in c.items()} for c in domain.when] or None,
    )


def _option(spec: OptionSpec, max_dimension: int) -> OptionInfo:
    return OptionInfo(
        spec.name,
        spec.description,
        spec.group,
        [_domain(d, max_dimension) for d in spec.domains],
        spec.repeated,
        spec.seed_name,
    )


def ui_defaults() -> dict[str, dict[str, Value]]:
    """Per format, what the UI preselects: each option that applies to it and has a UI default."""
    result: dict[str, dict[str, Value]] = {}
    for fmt in OutputFormat:
        values: dict[str, Value] = {}
        for spec in CONVERT_OPTIONS:
            domain = spec.domain_for(fmt)
            if spec.name == "format" or domain is None:
                continue
            value = domain.ui_default
            if value is not None:
                values[spec.name] = value
        result[fmt.value] = values
    return result


def options_document(settings: Settings) -> OptionsDocument:
    max_dimension = settings.max_output_dimension
    limits = LimitsInfo(
        max_output_dimension=max_dimension,
        max_upload_bytes=settings.max_upload_bytes,
        max_input_pixels=settings.max_input_pixels,
        max_batch_outputs=settings.max_batch_outputs,
        max_job_outputs=int(getattr(settings, "max_job_outputs", DEFAULT_MAX_JOB_OUTPUTS)),
    )
    return OptionsDocument(
        formats=[FormatInfo(f.value, f.mime, f.extension, f.supports_alpha) for f in OutputFormat],
        options=[_option(spec, max_dimension) for spec in OPTIONS],
        ui_defaults=ui_defaults(),
        limits=limits,
    )


@get(
    "/api/options",
    summary="Every option, its domain and defaults per format, and this deployment's limits",
    tags=["options"],
    operation_id="options",
    sync_to_thread=False,
)
def list_options(request: Request[Any, Any, Any]) -> OptionsDocument:
    settings: Settings = request.app.state.settings
    return options_document(settings)
