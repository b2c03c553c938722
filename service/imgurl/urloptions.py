"""The processing options of /img URLs, in imgproxy's names and short forms, declared once.

Each `UrlOption` is one row: its name, its short forms, its arguments (`UrlArg`) and what it means.
An argument that sets one of the conversion options takes its range and meaning from the option
table (`imaging/options.py`), so neither is written twice; the URL-only arguments (resizing type,
dpr, presets, expiry, ...) are declared here. Derived from this table: the parser below, the URL
options in `GET /api/options`, the /img route's OpenAPI description and the README's URL options
table. `resolve.py` turns the parsed `UrlOptions` into `ConvertOptions`.

An option is `name:arg1:arg2` and options are separated by `/`, as imgproxy documents; an empty
argument keeps its default. No web imports.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

import msgspec

from ..imaging.domains import Domain
from ..imaging.formats import OutputFormat
from ..imaging.options import OPTION_BY_NAME
from .errors import InvalidUrlOption

__all__ = [
    "FORMAT_EXTENSIONS",
    "NOT_YET",
    "RESIZING_TYPES",
    "URL_OPTIONS",
    "UrlArg",
    "UrlOption",
    "UrlOptions",
    "expand_presets",
    "parse_presets",
    "parse_url_options",
    "preset_table",
]

RESIZING_TYPES: tuple[str, ...] = ("fit", "fill", "fill-down", "force", "auto")
# Extensions and format names an /img URL may ask for, each to its output format.
FORMAT_EXTENSIONS: dict[str, OutputFormat] = {
    **{f.value: f for f in OutputFormat},
    **{f.extension: f for f in OutputFormat},
}
_TRUE = frozenset({"1", "t", "true"})  # imgproxy's booleans (Go's ParseBool)
_FALSE = frozenset({"0", "f", "false"})
_INT = re.compile(r"[0-9]{1,12}")
_NUMBER = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?|\.[0-9]{1,6}")
_PRESET_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_PRESET_DEPTH = 8  # presets naming presets: deep enough for any real use, a stop for a loop


class UrlOptions(msgspec.Struct, frozen=True, kw_only=True):
    """An /img URL's processing options after presets, with imgproxy's defaults. Its JSON is the
    canonical form of the request (part of the ETag)."""

    resizing_type: str = "fit"
    width: int = 0  # 0: from the height and the aspect ratio (force: the source's width)
    height: int = 0
    enlarge: bool = False
    extend: bool = False
    dpr: float = 1.0
    quality: int = 0  # 0: the format's default
    format: str | None = None  # an OutputFormat value; None: negotiated from Accept, then the source's
    strip_metadata: bool = True
    max_bytes: int = 0  # 0: off
    min_score: float | None = None
    score: bool = False
    cachebuster: str = ""
    expires: int | None = None  # unix time after which the URL answers 410
    filename: str | None = None
    attachment: bool = False
    presets: tuple[str, ...] = ()  # applied, in order (the default preset first when there is one)


@dataclass(frozen=True)
class UrlArg:
    """One argument of a URL option: the `UrlOptions` field it sets and what it accepts."""

    field: str
    kind: str  # int | number | bool | choice | text
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    zero: str | None = None  # what 0 means, when it means something other than zero
    option: str | None = None  # the conversion option (imaging/options.py) whose range and meaning it takes
    gt_zero: bool = False  # a number strictly above `minimum`

    def describe(self) -> str:
        if self.kind == "bool":
            return "a boolean (1/t/true or 0/f/false)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "text":
            return "text"
        low = "above" if self.gt_zero else "from"
        lo, hi = (int(v or 0) if self.kind == "int" else f"{v or 0:g}" for v in (self.minimum, self.maximum))
        text = f"{'an integer' if self.kind == 'int' else 'a number'} {low} {lo} to {hi}"
        return text + (f" (0: {self.zero})" if self.zero else "")


def _from_option(field: str, zero: str | None = None, option: str | None = None) -> UrlArg:
    """An argument with the range of a conversion option, widened to 0 when 0 means something."""
    name = option or field
    domain: Domain = OPTION_BY_NAME[name].domains[0]
    low = 0 if zero is not None else domain.minimum
    kind = "int" if domain.kind == "int" else "number"
    return UrlArg(field, kind, low, domain.maximum, zero=zero, option=name)


def _bool(field: str) -> UrlArg:
    return UrlArg(field, "bool")


@dataclass(frozen=True)
class UrlOption:
    name: str
    short: tuple[str, ...]
    args: tuple[UrlArg, ...]
    description: str
    variadic: bool = False  # preset: any number of names

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.short)

    @property
    def syntax(self) -> str:
        args = ":".join(f"%{a.field}" for a in self.args) + (":..." if self.variadic else "")
        return f"{self.name}:{args}"


_TYPE = UrlArg("resizing_type", "choice", choices=RESIZING_TYPES)
_WIDTH = _from_option("width", zero="auto")
_HEIGHT = _from_option("height", zero="auto")
_ENLARGE = _bool("enlarge")
_EXTEND = _bool("extend")

URL_OPTIONS: tuple[UrlOption, ...] = (
    UrlOption(
        "resize",
        ("rs",),
        (_TYPE, _WIDTH, _HEIGHT, _ENLARGE, _EXTEND),
        "Resizing type, width, height, enlarge and extend in one option; each may be left empty.",
    ),
    UrlOption("size", ("s",), (_WIDTH, _HEIGHT, _ENLARGE, _EXTEND), "Width, height, enlarge and extend in one option."),
    UrlOption(
        "resizing_type",
        ("rt",),
        (_TYPE,),
        "fit: within width x height, aspect kept; fill: cover the box and crop the centre; fill-down: as "
        "fill, but a source smaller than the box is cropped to its aspect ratio instead of enlarged; force: "
        "stretch to the box; auto: fill when source and box have the same orientation, else fit. Default fit.",
    ),
    UrlOption("width", ("w",), (_WIDTH,), "Output width; 0 follows the height (force: keeps the source's width)."),
    UrlOption("height", ("h",), (_HEIGHT,), "Output height; 0 follows the width (force: keeps the source's height)."),
    UrlOption(
        "dpr",
        (),
        (UrlArg("dpr", "number", 0, 100, gt_zero=True),),
        "Multiplies width and height (for HiDPI screens); still no larger than the source unless enlarge.",
    ),
    UrlOption("enlarge", ("el",), (_ENLARGE,), "Allow the output to be larger than the source."),
    UrlOption(
        "extend",
        ("ex",),
        (_EXTEND, UrlArg("gravity", "choice", choices=("ce",))),
        "With resizing type fit: pad the output to width x height, centred (transparent where the format "
        "has alpha, else black). Only the centre gravity so far.",
    ),
    UrlOption("quality", ("q",), (_from_option("quality", zero="the format's default"),), "Encoder quality."),
    UrlOption(
        "format",
        ("f", "ext"),
        (UrlArg("format", "choice", choices=tuple(FORMAT_EXTENSIONS)),),
        "Output format (as the URL's extension). Without either: AVIF or WebP when the Accept header "
        "allows them, else the source's format (HEIF as AVIF, GIF as PNG), answered with Vary: Accept.",
    ),
    UrlOption(
        "strip_metadata",
        ("sm",),
        (_bool("strip_metadata"),),
        "Strip EXIF/XMP/IPTC/ICC metadata (the default); false keeps it (keep_metadata).",
    ),
    UrlOption("max_bytes", ("mb",), (_from_option("max_bytes", zero="off"),), OPTION_BY_NAME["max_bytes"].description),
    UrlOption("min_score", (), (_from_option("min_score"),), OPTION_BY_NAME["min_score"].description),
    UrlOption("score", (), (_bool("score"),), "Measure the output's quality score; answered in X-Quality-Score."),
    UrlOption(
        "preset",
        ("pr",),
        (UrlArg("presets", "text"),),
        "Apply the named presets of URL_PRESETS, in order, here.",
        variadic=True,
    ),
    UrlOption(
        "cachebuster",
        ("cb",),
        (UrlArg("cachebuster", "text"),),
        "Any text: changes the URL (and the ETag) without changing the image, to get past caches.",
    ),
    UrlOption(
        "expires",
        ("exp",),
        (UrlArg("expires", "int", 0, 10**11),),
        "Unix time after which the URL answers 410 (imgproxy answers 404).",
    ),
    UrlOption(
        "filename",
        ("fn",),
        (UrlArg("filename", "text"), _bool("encoded")),
        "File name for Content-Disposition (percent-escaped, or URL-safe base64 when encoded is true); "
        "the output's extension is added.",
    ),
    UrlOption(
        "return_attachment",
        ("att",),
        (_bool("attachment"),),
        "Content-Disposition: attachment (a browser saves the file) instead of inline.",
    ),
    UrlOption(
        "auto_rotate",
        ("ar",),
        (UrlArg("auto_rotate", "choice", choices=("1", "t", "true")),),
        "Apply the EXIF orientation: always done, so only true is accepted.",
    ),
)
_BY_NAME: dict[str, UrlOption] = {name: option for option in URL_OPTIONS for name in option.names}
# imgproxy options this service does not do yet: refused by name rather than as unknown.
NOT_YET: frozenset[str] = frozenset(
    {
        *("gravity", "g", "crop", "c", "background", "bg", "blur", "bl", "sharpen", "sh", "rotate", "rot"),
        *("flip", "fl", "watermark", "wm", "padding", "pd", "trim", "t", "min-width", "mw", "min-height"),
        *("mh", "zoom", "z", "extend_aspect_ratio", "extend_ar", "exar", "pixelate", "pix", "format_quality"),
        *("fq", "skip_processing", "skp", "raw", "keep_copyright", "kcr", "strip_color_profile", "scp"),
        *("enforce_thumbnail", "eth"),
    }
)


def _value(option: str, arg: UrlArg, raw: str) -> object:
    text = raw.lower() if arg.kind in ("bool", "choice") else raw
    if arg.kind == "bool":
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    elif arg.kind == "choice":
        if text in arg.choices:
            return text
    elif arg.kind == "text":
        return unquote(raw)
    elif arg.kind == "int" and _INT.fullmatch(raw):
        number = int(raw)
        if arg.minimum is not None and arg.maximum is not None and arg.minimum <= number <= arg.maximum:
            return number
    elif arg.kind == "number" and _NUMBER.fullmatch(raw):
        value = float(raw)
        low_ok = value > (arg.minimum or 0) if arg.gt_zero else value >= (arg.minimum or 0)
        if low_ok and arg.maximum is not None and value <= arg.maximum:
            return value
    raise InvalidUrlOption(option, f"{arg.describe()} as its {arg.field}", raw)


def _decode_filename(raw: str) -> str:
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidUrlOption("filename", "URL-safe base64 of UTF-8 text (encoded is true)", raw) from None


def _apply(values: dict[str, object], name: str, args: list[str]) -> None:
    """Set the fields one option names, after checking each of its arguments."""
    option = _BY_NAME.get(name)
    if option is None:
        if name in NOT_YET:
            raise InvalidUrlOption(name, "an option this service supports (not this one, yet)", name)
        known = ", ".join(o.name for o in URL_OPTIONS)
        raise InvalidUrlOption(name, f"a known option ({known})", name)
    if len(args) > len(option.args) and not option.variadic:
        raise InvalidUrlOption(option.name, f"at most {len(option.args)} arguments ({option.syntax})", ":".join(args))
    if not any(args):
        raise InvalidUrlOption(option.name, f"arguments ({option.syntax})", "")
    parsed: dict[str, object] = {}
    for arg, raw in zip(option.args, args, strict=False):
        if raw != "":
            parsed[arg.field] = _value(option.name, arg, raw)
    if option.name == "filename" and parsed.pop("encoded", False) and "filename" in parsed:
        parsed["filename"] = _decode_filename(args[0])
    parsed.pop("encoded", None)
    parsed.pop("gravity", None)  # only the centre, the default
    parsed.pop("auto_rotate", None)  # always
    values.update(parsed)


def _split(segment: str) -> tuple[str, list[str]]:
    name, *args = segment.split(":")
    return name, args


def expand_presets(
    segments: Iterable[str], presets: Mapping[str, tuple[str, ...]], *, only_presets: bool = False
) -> list[tuple[str, list[str]]]:
    """The options of `segments` with every preset replaced by its options, the default preset
    first. In presets-only mode each segment is a list of preset names (a:b:c)."""
    expanded: list[tuple[str, list[str]]] = []
    applied: list[str] = []

    def use(name: str, depth: int) -> None:
        if name not in presets:
            listed = ", ".join(sorted(presets)) or "none are configured"
            raise InvalidUrlOption("preset", f"a preset of URL_PRESETS ({listed})", name)
        if depth > MAX_PRESET_DEPTH:
            raise InvalidUrlOption("preset", f"presets nested at most {MAX_PRESET_DEPTH} deep", name)
        applied.append(name)
        for segment in presets[name]:
            add(segment, depth + 1)

    def add(segment: str, depth: int) -> None:
        name, args = _split(segment)
        option = _BY_NAME.get(name)
        if option is not None and option.name == "preset":
            for preset in args:
                use(preset, depth)
        else:
            expanded.append((name, args))

    if "default" in presets:
        use("default", 0)
    for segment in segments:
        if only_presets:
            for preset in segment.split(":"):
                use(preset, 0)
        else:
            add(segment, 0)
    expanded.append(("preset", applied))  # recorded, for the canonical form
    return expanded


def parse_url_options(
    segments: Iterable[str], presets: Mapping[str, tuple[str, ...]] | None = None, *, only_presets: bool = False
) -> UrlOptions:
    """The options part of an /img URL (already split at `/`) as `UrlOptions`; 422 naming the
    option on anything unknown or malformed."""
    values: dict[str, object] = {}
    for name, args in expand_presets(segments, presets or {}, only_presets=only_presets):
        if name == "preset":
            values["presets"] = tuple(args)
            continue
        _apply(values, name, args)
    return msgspec.convert(values, UrlOptions)


def _preset_entries(raw: str) -> tuple[str, ...]:
    return tuple(entry.strip() for entry in raw.split(",") if entry.strip())


def preset_table(entries: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """URL_PRESETS' entries (`name=option:arg/option:arg`) as name -> option segments."""
    table: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        name, sep, options = entry.partition("=")
        name = name.strip()
        if not sep or not _PRESET_NAME.fullmatch(name):
            raise ValueError(f"a preset as name=options, not {entry!r}")
        table[name] = tuple(s for s in options.strip().split("/") if s)
    return table


def parse_presets(raw: str) -> tuple[str, ...]:
    """URL_PRESETS: each preset's options are checked now, so a typo stops the start-up."""
    entries = _preset_entries(raw)
    table = preset_table(entries)
    for name in table:
        try:
            parse_url_options((f"preset:{name}",), table)
        except InvalidUrlOption as exc:
            raise ValueError(f"presets whose options are valid; {name}: {exc}") from None
    return entries


parse_presets.__doc__ = "empty or comma-separated name=option:arg/option:arg presets with valid options"
