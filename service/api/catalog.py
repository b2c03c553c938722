"""GET /api/options: the option table as JSON, so the browser UI (and any client) renders from it.

`default` is what the API uses when an option is omitted, per format; `ui_defaults` is what the UI
preselects per format; `ui_grid` is what the batch page's grid preselects and how many widths and
qualities it lays out; `limits` are this deployment's configured limits. The browser UI keeps no
range, default or limit of its own: everything it shows or checks is in this document.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from ..imaging.domains import Domain, OptionSpec, Value
from ..imaging.formats import OutputFormat
from ..imaging.options import CONVERT_OPTIONS, OPTION_BY_NAME, OPTIONS
from ..imgurl.urloptions import URL_OPTIONS, UrlArg, UrlOption
from ..settings import Settings

__all__ = [
    "GridInfo",
    "LimitsInfo",
    "OptionsDocument",
    "UrlArgInfo",
    "UrlOptionInfo",
    "list_options",
    "options_document",
    "ui_defaults",
    "ui_grid",
]

# The batch page's grid: what it preselects, and the rows (widths) and columns (qualities) its
# layout, chart and viewer are made for. Each value must be in its option's domain (ui_grid checks).
_GRID_WIDTHS = (320, 800, 1200)
_GRID_QUALITIES = (50, 75, 90)
_GRID_MAX_WIDTHS = 6
_GRID_MAX_QUALITIES = 10


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


class UrlArgInfo(msgspec.Struct, frozen=True):
    name: str
    type: str  # int | number | bool | choice | text
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] | None = None
    zero: str | None = None  # what 0 means, when not zero
    option: str | None = None  # the conversion option whose range and meaning it takes


class UrlOptionInfo(msgspec.Struct, frozen=True):
    """A processing option of GET /img URLs (imgproxy's name and short forms)."""

    name: str
    short: list[str]
    syntax: str
    arguments: list[UrlArgInfo]
    description: str


class LimitsInfo(msgspec.Struct, frozen=True):
    max_output_dimension: int
    max_upload_bytes: int
    max_input_pixels: int
    max_batch_outputs: int
    max_job_outputs: int


class GridInfo(msgspec.Struct, frozen=True):
    """The batch page's grid: the widths and qualities it starts with and how many of each it offers
    (never more than one job may hold)."""

    widths: list[int]
    qualities: list[int]
    max_widths: int
    max_qualities: int


class OptionsDocument(msgspec.Struct, frozen=True):
    formats: list[FormatInfo]
    options: list[OptionInfo]
    ui_defaults: dict[str, dict[str, Value]]
    ui_grid: GridInfo
    limits: LimitsInfo
    url_options: list[UrlOptionInfo]


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


def _url_arg(arg: UrlArg) -> UrlArgInfo:
    ranged = arg.kind in ("int", "number")
    return UrlArgInfo(
        arg.field,
        arg.kind,
        arg.minimum if ranged else None,
        arg.maximum if ranged else None,
        list(arg.choices) or None,
        arg.zero,
        arg.option,
    )


def _url_option(option: UrlOption) -> UrlOptionInfo:
    args = [_url_arg(a) for a in option.args]
    return UrlOptionInfo(option.name, list(option.short), option.syntax, args, option.description)


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


def _in_domain(name: str, values: tuple[int, ...], max_dimension: int) -> list[int]:
    domain = OPTION_BY_NAME[name].domains[0]
    lower, upper = domain.minimum, domain.upper(max_dimension)
    clamped = (v if lower is None else max(v, int(lower)) for v in values)
    return [v if upper is None else min(v, int(upper)) for v in clamped]


def ui_grid(settings: Settings) -> GridInfo:
    """The batch page's grid within this deployment's limits: a preselected width past
    MAX_OUTPUT_DIMENSION becomes that limit, and no list is longer than MAX_JOB_OUTPUTS allows."""
    max_dimension = settings.max_output_dimension
    widths = sorted(set(_in_domain("widths", _GRID_WIDTHS, max_dimension)))
    qualities = sorted(set(_in_domain("qualities", _GRID_QUALITIES, max_dimension)))
    most = settings.max_job_outputs
    max_widths = max(1, min(_GRID_MAX_WIDTHS, most))
    max_qualities = max(1, min(_GRID_MAX_QUALITIES, most))
    widths = widths[:max_widths]
    qualities = qualities[: max(1, min(max_qualities, most // len(widths)))]
    return GridInfo(widths, qualities, max_widths, max_qualities)


def options_document(settings: Settings) -> OptionsDocument:
    max_dimension = settings.max_output_dimension
    limits = LimitsInfo(
        max_output_dimension=max_dimension,
        max_upload_bytes=settings.max_upload_bytes,
        max_input_pixels=settings.max_input_pixels,
        max_batch_outputs=settings.max_batch_outputs,
        max_job_outputs=settings.max_job_outputs,
    )
    return OptionsDocument(
        formats=[FormatInfo(f.value, f.mime, f.extension, f.supports_alpha) for f in OutputFormat],
        options=[_option(spec, max_dimension) for spec in OPTIONS],
        ui_defaults=ui_defaults(),
        ui_grid=ui_grid(settings),
        limits=limits,
        url_options=[_url_option(option) for option in URL_OPTIONS],
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
