"""Conversion options: one declaration per option, from which everything else is derived.

Each `OptionSpec` says once what an option is called, what it means, which group it belongs to,
and per output format (`Domain`): the values it accepts, the default the API uses when it is
omitted, the default the browser UI preselects, and the libvips saver parameter it becomes.

Derived from this table: the parser below (one range check per value, errors that name the
field, the allowed values and what was received), `ConvertOptions` (checked against the table
when this module is imported), the encoder mapping (`encoders.py`), the original service's field
names (`api/seed.py`), the OpenAPI parameters (`api/openapi.py`), the `GET /api/options`
document (`api/options.py`) and the README options table (`python -m service.docs readme`).

Values arrive as strings (query parameters or form fields). No web or libvips imports: this
module runs in the server and in the workers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import msgspec

from .errors import OptionError
from .formats import OutputFormat

Kind = Literal["int", "number", "bool", "choice"]
Group = Literal["geometry", "output", "encoder", "batch"]
Value = bool | int | float | str
Fit = Literal["inside", "cover", "contain", "fill", "outside"]
Condition = Mapping[str, tuple[Value, ...]]

FITS: tuple[str, ...] = ("inside", "cover", "contain", "fill", "outside")
FORMAT_CHOICES: tuple[str, ...] = (*(f.value for f in OutputFormat), "auto")
MAX_DIMENSION = 16383  # WebP's limit; the configured MAX_OUTPUT_DIMENSION may only lower it

KEEP_NONE = 0  # VipsForeignKeep: strip everything
KEEP_ALL = 31  # exif | xmp | iptc | icc | other

_ALL = frozenset(OutputFormat)
_J, _P, _W, _A, _T = (frozenset({f}) for f in OutputFormat)


def _text(value: Value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class _Unset(Enum):
    """Marks a UI default that is the API default (None is a real value: "preselect nothing")."""

    UNSET = 0


UNSET = _Unset.UNSET


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per declaration
class Domain:
    """What one option accepts for a set of formats, and what it becomes there."""

    kind: Kind
    formats: frozenset[OutputFormat] = _ALL
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()
    default: Value | None = None  # what the API uses when the option is omitted (None: nothing is sent)
    ui: Value | _Unset | None = UNSET  # what the browser preselects, when it differs from `default`
    param: str | None = None  # the libvips saver parameter, None when a rule or the planner uses it
    to_vips: Mapping[Value, Value] | None = None  # our value -> libvips' value, when they differ
    dimension: bool = False  # bounded by the configured MAX_OUTPUT_DIMENSION too
    # When the option means something: any one of these conditions, each "every named option has one
    # of these values" (an omitted option counts as its default). Empty: always. For the UI, which
    # shows and sends only options that apply; the API accepts them regardless.
    when: tuple[Condition, ...] = ()

    @property
    def ui_default(self) -> Value | None:
        return self.default if isinstance(self.ui, _Unset) else self.ui

    def upper(self, max_dimension: int = MAX_DIMENSION) -> int | float | None:
        if self.dimension and self.maximum is not None:
            return min(self.maximum, max_dimension)
        return self.maximum

    def describe(self, max_dimension: int = MAX_DIMENSION) -> str:
        if self.kind == "bool":
            return "a boolean (true/false)"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "int":
            return f"an integer between {self.minimum} and {self.upper(max_dimension)}"
        return f"a number between {self.minimum:g} and {self.upper(max_dimension):g}"

    def describe_when(self) -> str:
        """The conditions as text, e.g. "when lossless=false or near_lossless=true"; "" when none."""
        alternatives = [
            " and ".join(f"{name}={'/'.join(_text(v) for v in values)}" for name, values in condition.items())
            for condition in self.when
        ]
        return "when " + " or ".join(alternatives) if alternatives else ""

    def vips_value(self, value: Value) -> Value:
        return value if self.to_vips is None else self.to_vips[value]


@dataclass(frozen=True)
class OptionSpec:
    name: str
    group: Group
    description: str
    domains: tuple[Domain, ...]
    seed_name: str | None = None  # the field name on the original service's routes, when it had one
    repeated: bool = False  # a list: comma separated or the parameter repeated (batch)
    domain_by_format: dict[OutputFormat, Domain] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_format: dict[OutputFormat, Domain] = {}
        for domain in self.domains:
            for fmt in domain.formats:
                if fmt in by_format:
                    raise ValueError(f"option {self.name}: two domains for {fmt.value}")
                by_format[fmt] = domain
        object.__setattr__(self, "domain_by_format", by_format)

    @property
    def formats(self) -> frozenset[OutputFormat]:
        return frozenset(self.domain_by_format)

    def domain_for(self, fmt: OutputFormat) -> Domain | None:
        return self.domain_by_format.get(fmt)

    @property
    def in_convert_options(self) -> bool:
        return self.group != "batch"


def _int(
    lo: int,
    hi: int,
    formats: frozenset[OutputFormat] = _ALL,
    *,
    default: int | None = None,
    param: str | None = None,
    ui: int | _Unset | None = UNSET,
    choices: tuple[str, ...] = (),
    dimension: bool = False,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("int", formats, lo, hi, choices, default, ui, param, dimension=dimension, when=when)


def _bool(
    formats: frozenset[OutputFormat] = _ALL,
    *,
    default: bool | None = False,
    param: str | None = None,
    ui: bool | _Unset | None = UNSET,
    to_vips: Mapping[Value, Value] | None = None,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("bool", formats, default=default, ui=ui, param=param, to_vips=to_vips, when=when)


def _choice(
    choices: tuple[str, ...],
    formats: frozenset[OutputFormat] = _ALL,
    *,
    default: str | None = None,
    param: str | None = None,
    ui: str | _Unset | None = UNSET,
    to_vips: Mapping[Value, Value] | None = None,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("choice", formats, choices=choices, default=default, ui=ui, param=param, to_vips=to_vips, when=when)


SUBSAMPLING = ("auto", "4:2:0", "4:4:4")
_SUBSAMPLE: dict[Value, Value] = {"auto": "auto", "4:2:0": "on", "4:4:4": "off"}
_KEEP: dict[Value, Value] = {False: KEEP_NONE, True: KEEP_ALL}

OPTIONS: tuple[OptionSpec, ...] = (
    # geometry: used by the resize planner (plan.py), not by an encoder
    OptionSpec(
        "width",
        "geometry",
        "Output width in pixels; height follows the aspect ratio when omitted.",
        (_int(1, MAX_DIMENSION, dimension=True),),
        seed_name="width",
    ),
    OptionSpec(
        "height",
        "geometry",
        "Output height in pixels; width follows the aspect ratio when omitted.",
        (_int(1, MAX_DIMENSION, dimension=True),),
        seed_name="height",
    ),
    OptionSpec(
        "fit",
        "geometry",
        "How the image fits width x height: inside (keep aspect, within the box), "
        "cover (fill the box, crop the centre), contain (within the box, padded to it), "
        "fill (stretch, ignore aspect), outside (keep aspect, at least the box).",
        (_choice(FITS, default="inside"),),
    ),
    OptionSpec("enlarge", "geometry", "Allow the output to be larger than the input.", (_bool(),)),
    # output
    OptionSpec(
        "format",
        "output",
        "Output format; auto picks AVIF, WebP or JPEG from the Accept header "
        "(PNG for images with alpha when neither AVIF nor WebP is accepted).",
        (_choice(FORMAT_CHOICES, default="jpeg"),),
        seed_name="format",
    ),
    OptionSpec(
        "quality",
        "output",
        "Encoder quality; each format has its own default. For PNG it turns on "
        "palette quantisation at that quality; for TIFF it applies to jpeg compression.",
        (
            _int(1, 100, _J, default=80, param="Q"),
            _int(1, 100, _W, default=80, param="Q", when=({"lossless": (False,)}, {"near_lossless": (True,)})),
            _int(1, 100, _T, default=80, param="Q", when=({"compression": ("jpeg",)},)),
            _int(1, 100, _A, default=50, param="Q", when=({"lossless": (False,)},)),
            _int(1, 100, _P, default=100, param="Q", when=({"palette": (True,)},)),
        ),
        seed_name="quality",
    ),
    OptionSpec(
        "keep_metadata",
        "output",
        "Keep EXIF/XMP/IPTC/ICC metadata (otherwise stripped; the image is "
        "always converted to sRGB and rotated upright).",
        (_bool(param="keep", to_vips=_KEEP),),
    ),
    # JPEG (mozjpeg). The UI preselects what the original page had checked: every mozjpeg option and
    # sharp's `mozjpeg` preset (quant table 3), 4:2:0; the API keeps libvips' defaults when omitted.
    OptionSpec(
        "progressive",
        "encoder",
        "JPEG: progressive (interlaced) scan order.",
        (_bool(_J, param="interlace", ui=True),),
        seed_name="progressive",
    ),
    OptionSpec(
        "optimize_scans",
        "encoder",
        "JPEG: split DCT coefficients into separate scans (implies progressive).",
        (_bool(_J, param="optimize_scans", ui=True, when=({"progressive": (True,)},)),),
        seed_name="optimizeScans",
    ),
    OptionSpec(
        "trellis_quant",
        "encoder",
        "JPEG: trellis quantisation (mozjpeg; smaller, slower).",
        (_bool(_J, param="trellis_quant", ui=True),),
        seed_name="trellisQuantisation",
    ),
    OptionSpec(
        "overshoot_deringing",
        "encoder",
        "JPEG: overshoot deringing (mozjpeg) for black text on white.",
        (_bool(_J, param="overshoot_deringing", ui=True),),
        seed_name="overshootDeringing",
    ),
    OptionSpec(
        "optimize_coding",
        "encoder",
        "JPEG: compute optimal Huffman tables.",
        (_bool(_J, default=True, param="optimize_coding"),),
        seed_name="optimizeCoding",
    ),
    OptionSpec(
        "quant_table",
        "encoder",
        "JPEG: mozjpeg quantisation table (3 is sharp's mozjpeg preset).",
        (_int(0, 8, _J, default=0, param="quant_table", ui=3),),
    ),
    OptionSpec(
        "chroma_subsampling",
        "encoder",
        "JPEG/AVIF chroma subsampling: auto (4:2:0 below quality 90), "
        "4:2:0 or 4:4:4. JPEG defaults to 4:2:0 as the original service did.",
        (
            _choice(SUBSAMPLING, _J, default="4:2:0", param="subsample_mode", to_vips=_SUBSAMPLE),
            _choice(
                SUBSAMPLING,
                _A,
                default="auto",
                param="subsample_mode",
                to_vips=_SUBSAMPLE,
                when=({"lossless": (False,)},),
            ),
        ),
    ),
    # PNG and TIFF share the name `compression` with different domains, like effort and lossless
    OptionSpec(
        "compression",
        "encoder",
        "PNG: zlib level. TIFF: compression scheme.",
        (
            _int(0, 9, _P, default=6, param="compression"),
            _choice(("none", "lzw", "deflate", "jpeg", "zstd"), _T, default="lzw", param="compression"),
        ),
    ),
    OptionSpec(
        "palette", "encoder", "PNG: quantise to an 8-bit palette (libimagequant).", (_bool(_P, param="palette"),)
    ),
    OptionSpec(
        "colors",
        "encoder",
        "PNG: palette size (implies palette).",
        (_int(2, 256, _P, ui=256, when=({"palette": (True,)},)),),
    ),
    OptionSpec(
        "effort",
        "encoder",
        "CPU effort: for PNG of palette quantisation, for WebP and AVIF of compression.",
        (
            _int(1, 10, _P, default=7, param="effort", when=({"palette": (True,)},)),
            _int(0, 6, _W, default=4, param="effort"),
            _int(0, 9, _A, default=3, param="effort"),  # libaom speed 6: see DEFAULT_AVIF_EFFORT in BENCHMARKS.md
        ),
    ),
    OptionSpec("lossless", "encoder", "WebP/AVIF: lossless compression.", (_bool(_W | _A, param="lossless"),)),
    OptionSpec(
        "near_lossless",
        "encoder",
        "WebP: near-lossless preprocessing (uses quality).",
        (_bool(_W, param="near_lossless", when=({"lossless": (True,)},)),),
    ),
    OptionSpec(
        "alpha_quality", "encoder", "WebP: alpha plane quality.", (_int(0, 100, _W, default=100, param="alpha_q"),)
    ),
    OptionSpec(
        "smart_subsample",
        "encoder",
        "WebP: high quality chroma subsampling.",
        (_bool(_W, param="smart_subsample", when=({"lossless": (False,)},)),),
    ),
    OptionSpec(
        "bitdepth",
        "encoder",
        "AVIF: bits per sample (when omitted: 8 for 8-bit images, 12 for 16-bit).",
        (_int(8, 12, _A, choices=("8", "10", "12"), param="bitdepth", ui=8),),
    ),
    OptionSpec(
        "predictor",
        "encoder",
        "TIFF: compression predictor (horizontal by default with lzw, deflate and zstd).",
        (
            _choice(
                ("none", "horizontal", "float"),
                _T,
                param="predictor",
                ui="horizontal",
                when=({"compression": ("lzw", "deflate", "zstd")},),
            ),
        ),
    ),
    OptionSpec("tile", "encoder", "TIFF: write a tiled TIFF.", (_bool(_T, param="tile"),)),
    OptionSpec("pyramid", "encoder", "TIFF: write a pyramidal TIFF (implies tile).", (_bool(_T, param="pyramid"),)),
    # targets (service/imaging/targets.py) and the quality score (service/imaging/quality.py)
    OptionSpec(
        "score",
        "output",
        "Also measure the output's quality score: SSIM on luminance (0..1) against the same input at the same "
        "size before encoding; convert answers it in X-Quality-Score, batch and jobs in each output's score.",
        (_bool(),),
    ),
    OptionSpec(
        "max_bytes",
        "output",
        "The highest quality (up to quality, else the format's default) whose output fits this many bytes; "
        "422 max_bytes_unreachable when even quality 1 does not. Needs a lossy encoding (palette PNG, TIFF with "
        "compression=jpeg).",
        (_int(1, 2_000_000_000),),
    ),
    OptionSpec(
        "min_score",
        "output",
        "The smallest output (lowest quality, up to quality, else 100) whose quality score reaches this; "
        "422 min_score_unreachable when none does. Needs a lossy encoding.",
        (Domain("number", _ALL, 0.0, 1.0),),
    ),
    OptionSpec(
        "fast_shrink",
        "geometry",
        "JPEG input: decode at the largest DCT scale that leaves a resize of at least 1.5 (8-29% less decode "
        "CPU, see BENCHMARKS.md); false keeps libvips' factor of 2 (marginally sharper on fine texture). Off "
        "when scoring: the score's reference is that decode.",
        (_bool(default=True),),
    ),
    # batch: the grid of one upload (POST /api/batch and jobs); not part of ConvertOptions
    OptionSpec(
        "widths",
        "batch",
        "Output widths, comma separated or repeated (default: width).",
        (_int(1, MAX_DIMENSION, dimension=True),),
        repeated=True,
    ),
    OptionSpec(
        "qualities",
        "batch",
        "Qualities, comma separated or repeated (default: quality).",
        (_int(1, 100, default=None),),
        repeated=True,
    ),
    OptionSpec(
        "formats",
        "batch",
        "Output formats, comma separated or repeated (default: format).",
        (_choice(tuple(f.value for f in OutputFormat)),),
        repeated=True,
    ),
    OptionSpec(
        "response",
        "batch",
        "zip: a ZIP streamed as outputs finish; json: a manifest with data URLs.",
        (_choice(("zip", "json"), default="zip"),),
    ),
)
OPTION_BY_NAME: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}
CONVERT_OPTIONS: tuple[OptionSpec, ...] = tuple(spec for spec in OPTIONS if spec.in_convert_options)
BATCH_OPTIONS: tuple[OptionSpec, ...] = tuple(spec for spec in OPTIONS if spec.group == "batch")
BATCH_NAMES: tuple[str, ...] = tuple(spec.name for spec in BATCH_OPTIONS)  # `extra=` of parse_options
SEED_NAMES: dict[str, str] = {spec.seed_name: spec.name for spec in OPTIONS if spec.seed_name}


@dataclass(frozen=True)
class SeedPreset:
    """A checkbox of the original service that sets several of our options (JPEG only)."""

    name: str
    description: str
    values: Mapping[str, str]


SEED_PRESETS: tuple[SeedPreset, ...] = (
    SeedPreset(
        "mozjpeg",
        "JPEG: sharp's mozjpeg preset (trellis quantisation, overshoot deringing, optimised scans, quant table 3).",
        {"trellis_quant": "true", "overshoot_deringing": "true", "optimize_scans": "true", "quant_table": "3"},
    ),
)

# What format=auto may choose; TIFF is never picked for a browser.
AUTO_CANDIDATES = frozenset({OutputFormat.AVIF, OutputFormat.WEBP, OutputFormat.JPEG, OutputFormat.PNG})


class ConvertOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Validated options of one conversion: one field per non-batch option of the table (checked at
    import). None means "not given": the encoder then uses the table's default for the format."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "inside"
    enlarge: bool = False
    format: str = "jpeg"  # an OutputFormat value, or "auto"
    quality: int | None = None
    keep_metadata: bool = False
    progressive: bool | None = None
    optimize_scans: bool | None = None
    trellis_quant: bool | None = None
    overshoot_deringing: bool | None = None
    optimize_coding: bool | None = None
    quant_table: int | None = None
    chroma_subsampling: str | None = None
    compression: int | str | None = None
    palette: bool | None = None
    colors: int | None = None
    effort: int | None = None
    lossless: bool | None = None
    near_lossless: bool | None = None
    alpha_quality: int | None = None
    smart_subsample: bool | None = None
    bitdepth: int | None = None
    predictor: str | None = None
    tile: bool | None = None
    pyramid: bool | None = None
    score: bool = False
    max_bytes: int | None = None
    min_score: float | None = None
    fast_shrink: bool | None = None  # None: the default (true)
    accepted: tuple[str, ...] = ()  # not an option: formats the Accept header allows, for format=auto

    def value(self, name: str) -> Value | None:
        result: Value | None = getattr(self, name)
        return result


_NOT_OPTIONS = frozenset({"accepted"})


def _check_struct_matches_table() -> None:
    """ConvertOptions is written out for the type checker; this keeps it equal to the table."""
    fields = [f.name for f in msgspec.structs.fields(ConvertOptions) if f.name not in _NOT_OPTIONS]
    names = [spec.name for spec in CONVERT_OPTIONS]
    if fields != names:
        raise TypeError(f"ConvertOptions fields {fields} differ from the option table {names}")
    defaults = {f.name: f.default for f in msgspec.structs.fields(ConvertOptions)}
    for spec in CONVERT_OPTIONS:
        struct_default = defaults[spec.name]
        if struct_default is not None and any(d.default != struct_default for d in spec.domains):
            raise TypeError(f"ConvertOptions.{spec.name} defaults to {struct_default!r}, the table does not")


_check_struct_matches_table()

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# ASCII only: int() and float() would also take '٣٠٠', '１００' and '3_00'.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")  # longer is out of every range (and int() refuses >4300 digits)
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})")
_BLANKS = " \t\r\n"


def parse_int(text: str) -> int | None:
    """An integer written with ASCII digits (and an optional sign), else None."""
    text = text.strip(_BLANKS)
    return int(text) if _INTEGER.fullmatch(text) else None


def parse_value(name: str, domain: Domain, raw: str, max_dimension: int = MAX_DIMENSION) -> Value:
    """The one place a string becomes a value of a domain: type, then range or choices, once."""
    text = raw.strip(_BLANKS)
    lowered = text.lower()
    if domain.kind == "bool":
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise OptionError(name, domain.describe(max_dimension), raw)
    if domain.kind == "choice":
        if lowered not in domain.choices:
            raise OptionError(name, domain.describe(max_dimension), raw)
        return lowered
    number: int | float
    if domain.kind == "int" and _INTEGER.fullmatch(text):
        number = int(text)
    elif domain.kind == "number" and _NUMBER.fullmatch(text):
        number = float(text)
    else:
        raise OptionError(name, domain.describe(max_dimension), raw)
    lo, hi = domain.minimum, domain.upper(max_dimension)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise OptionError(name, domain.describe(max_dimension), raw)
    if domain.choices and str(number) not in domain.choices:
        raise OptionError(name, domain.describe(max_dimension), raw)
    return number


def parse_format(raw: str) -> str:
    return str(parse_value("format", OPTION_BY_NAME["format"].domains[0], raw))


def parse_options(
    params: Mapping[str, str],
    *,
    formats: Iterable[OutputFormat] | None = None,
    extra: Iterable[str] = (),
    accepted: Iterable[str] = (),
    max_dimension: int = MAX_DIMENSION,
) -> ConvertOptions:
    """Validate string parameters into ConvertOptions.

    `formats` are the output formats the options must suit (a batch may have several); when None
    they come from the `format` parameter ("auto" means any). `extra` names parameters the caller
    handles itself (batch lists), so they are not reported as unknown.
    """
    known = {spec.name for spec in CONVERT_OPTIONS} | set(extra)
    for name in params:
        if name not in known:
            listed = ", ".join(sorted(spec.name for spec in CONVERT_OPTIONS))
            raise OptionError(name, f"a known option ({listed})", params[name])

    values: dict[str, object] = {}
    fmt = parse_format(params["format"]) if "format" in params else "jpeg"
    values["format"] = fmt
    if formats is None:
        targets = AUTO_CANDIDATES if fmt == "auto" else frozenset({OutputFormat(fmt)})
    else:
        targets = frozenset(formats)

    for name, raw in params.items():
        spec = OPTION_BY_NAME.get(name)
        if spec is None or name == "format" or not spec.in_convert_options:
            continue
        domains = {d for f in targets if (d := spec.domain_for(f)) is not None}
        if not domains:
            wanted = ", ".join(sorted(f.value for f in spec.formats))
            chosen = ", ".join(sorted(f.value for f in targets))
            raise OptionError(name, f"no {name} with format {chosen} (it applies to {wanted})", raw)
        # One value must be valid for every targeted format that uses the option.
        parsed = [parse_value(name, d, raw, max_dimension) for d in sorted(domains, key=_domain_order)]
        values[name] = parsed[0]
    values["accepted"] = tuple(accepted)
    return msgspec.convert(values, ConvertOptions)


def _domain_order(domain: Domain) -> tuple[str, ...]:
    return tuple(sorted(f.value for f in domain.formats))


def parse_list(name: str, raw_values: Iterable[str], *, max_dimension: int = MAX_DIMENSION) -> tuple[Value, ...]:
    """A repeated option (`widths=320,800` or `widths=320&widths=800`): every item checked by the
    option's domain, duplicates dropped in order. Empty items are ignored."""
    spec = OPTION_BY_NAME[name]
    domain = spec.domains[0]
    items: list[Value] = []
    for raw in raw_values:
        for part in raw.split(","):
            if part.strip(_BLANKS):
                items.append(parse_value(name, domain, part, max_dimension))
    return tuple(dict.fromkeys(items))


def parse_int_list(name: str, raw_values: Iterable[str], *, max_dimension: int = MAX_DIMENSION) -> tuple[int, ...]:
    """`widths` or `qualities` as integers, each checked by the option's domain (see parse_list)."""
    return tuple(int(v) for v in parse_list(name, raw_values, max_dimension=max_dimension))


def parse_format_list(raw_values: Iterable[str]) -> tuple[OutputFormat, ...]:
    """`formats` as OutputFormats (see parse_list)."""
    return tuple(OutputFormat(str(v)) for v in parse_list("formats", raw_values))


def accepted_formats(accept_header: str | None) -> tuple[str, ...]:
    """Formats an Accept header allows among those `auto` can choose (AVIF, WebP), q=0 excluded."""
    if not accept_header:
        return ()
    found: list[str] = []
    for part in accept_header.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, val = param.strip().partition("=")
            if key == "q":
                q = float(val) if _NUMBER.fullmatch(val.strip(_BLANKS)) else 0.0  # no "nan", no "１"
        if q <= 0:
            continue
        media = media.strip().lower()
        if media == "image/avif":
            found.append("avif")
        elif media == "image/webp":
            found.append("webp")
    return tuple(dict.fromkeys(found))
