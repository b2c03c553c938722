"""Conversion options: one table of every option, its type, range, formats and meaning.

The table drives parsing (with errors that name the field, the allowed values and what was
received), the OpenAPI documentation and the README; `encoders.py` maps the parsed values to
libvips parameters. Values arrive as strings (query parameters or form fields).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

from .errors import OptionError
from .formats import OutputFormat

Fit = Literal["inside", "cover", "contain", "fill", "outside"]
FITS: tuple[str, ...] = ("inside", "cover", "contain", "fill", "outside")
FORMAT_CHOICES: tuple[str, ...] = tuple(f.value for f in OutputFormat) + ("auto",)
MAX_DIMENSION = 16383  # WebP's limit; the configured MAX_OUTPUT_DIMENSION may only lower it

_ALL = frozenset(OutputFormat)
_J, _P, _W, _A, _T = (frozenset({f}) for f in OutputFormat)


@dataclass(frozen=True)
class Domain:
    """What values an option accepts for a set of formats."""

    kind: Literal["int", "bool", "choice", "number"]
    formats: frozenset[OutputFormat] = _ALL
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "bool":
            return "a boolean (true/false)"
        if self.kind == "int" and self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "int":
            return f"an integer between {self.minimum} and {self.maximum}"
        if self.kind == "number":
            return f"a number between {self.minimum:g} and {self.maximum:g}"
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class OptionSpec:
    name: str
    description: str
    domains: tuple[Domain, ...]

    @property
    def formats(self) -> frozenset[OutputFormat]:
        return frozenset().union(*(d.formats for d in self.domains))

    def domain_for(self, fmt: OutputFormat) -> Domain | None:
        for domain in self.domains:
            if fmt in domain.formats:
                return domain
        return None


def _int(lo: int, hi: int, formats: frozenset[OutputFormat] = _ALL) -> Domain:
    return Domain("int", formats, lo, hi)


def _bool(formats: frozenset[OutputFormat] = _ALL) -> Domain:
    return Domain("bool", formats)


def _choice(choices: Iterable[str], formats: frozenset[OutputFormat] = _ALL) -> Domain:
    return Domain("choice", formats, choices=tuple(choices))


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("width", "Output width in pixels; height follows the aspect ratio when omitted.", (_int(1, MAX_DIMENSION),)),
    OptionSpec("height", "Output height in pixels; width follows the aspect ratio when omitted.", (_int(1, MAX_DIMENSION),)),
    OptionSpec("fit", "How the image fits width x height: inside (default, keep aspect, within the box), "
               "cover (fill the box, crop the centre), contain (within the box, padded to it), "
               "fill (stretch, ignore aspect), outside (keep aspect, at least the box).", (_choice(FITS),)),
    OptionSpec("enlarge", "Allow the output to be larger than the input (default false).", (_bool(),)),
    OptionSpec("format", "Output format; auto picks AVIF, WebP or JPEG from the Accept header "
               "(PNG for images with alpha when neither AVIF nor WebP is accepted). Default jpeg.",
               (_choice(FORMAT_CHOICES),)),
    OptionSpec("quality", "Encoder quality 1-100 (defaults: JPEG/WebP/TIFF 80, AVIF 50). For PNG it "
               "turns on palette quantisation at that quality.", (_int(1, 100),)),
    OptionSpec("keep_metadata", "Keep EXIF/XMP/IPTC/ICC metadata (default false: stripped; the image "
               "is always converted to sRGB and rotated upright).", (_bool(),)),
    # JPEG (mozjpeg)
    OptionSpec("progressive", "JPEG: progressive (interlaced) scan order.", (_bool(_J),)),
    OptionSpec("optimize_scans", "JPEG: split DCT coefficients into separate scans (implies progressive).", (_bool(_J),)),
    OptionSpec("trellis_quant", "JPEG: trellis quantisation (mozjpeg; smaller, slower).", (_bool(_J),)),
    OptionSpec("overshoot_deringing", "JPEG: overshoot deringing (mozjpeg) for black text on white.", (_bool(_J),)),
    OptionSpec("optimize_coding", "JPEG: compute optimal Huffman tables (default true).", (_bool(_J),)),
    OptionSpec("quant_table", "JPEG: mozjpeg quantisation table 0-8 (3 is mozjpeg's default choice).", (_int(0, 8, _J),)),
    OptionSpec("chroma_subsampling", "JPEG/AVIF: chroma subsampling; auto (4:2:0 below quality 90), "
               "4:2:0 or 4:4:4. JPEG defaults to 4:2:0 (as the original service), AVIF to auto.", (_choice(("auto", "4:2:0", "4:4:4"), _J | _A),)),
    # PNG, TIFF share the name `compression` with different domains, like effort and lossless
    OptionSpec("compression", "PNG: zlib level 0-9 (default 6). TIFF: none, lzw (default), deflate, jpeg or zstd.",
               (_int(0, 9, _P), _choice(("none", "lzw", "deflate", "jpeg", "zstd"), _T))),
    OptionSpec("palette", "PNG: quantise to an 8-bit palette (libimagequant).", (_bool(_P),)),
    OptionSpec("colors", "PNG: palette size 2-256 (implies palette).", (_int(2, 256, _P),)),
    OptionSpec("effort", "CPU effort: PNG 1-10 (palette quantisation), WebP 0-6 (default 4), AVIF 0-9 (default 3).",
               (_int(1, 10, _P), _int(0, 6, _W), _int(0, 9, _A))),
    OptionSpec("lossless", "WebP/AVIF: lossless compression.", (_bool(_W | _A),)),
    OptionSpec("near_lossless", "WebP: near-lossless preprocessing (uses quality).", (_bool(_W),)),
    OptionSpec("alpha_quality", "WebP: alpha plane quality 0-100 (default 100).", (_int(0, 100, _W),)),
    OptionSpec("smart_subsample", "WebP: high quality chroma subsampling.", (_bool(_W),)),
    OptionSpec("bitdepth", "AVIF: bits per sample, 8, 10 or 12.", (Domain("int", _A, 8, 12, ("8", "10", "12")),)),
    OptionSpec("predictor", "TIFF: compression predictor none, horizontal (default) or float.",
               (_choice(("none", "horizontal", "float"), _T),)),
    OptionSpec("tile", "TIFF: write a tiled TIFF.", (_bool(_T),)),
    OptionSpec("pyramid", "TIFF: write a pyramidal TIFF (implies tile).", (_bool(_T),)),
    # Targets (service/imaging/targets.py) and the quality score (service/imaging/quality.py)
    OptionSpec("score", "Also measure the output's quality score: SSIM on luminance (0..1) against the same "
               "input at the same size before encoding; convert answers it in X-Quality-Score.", (_bool(),)),
    OptionSpec("max_bytes", "The highest quality (up to `quality`, else the format's default) whose output fits "
               "this many bytes; 422 max_bytes_unreachable when even quality 1 does not. Needs a lossy encoding "
               "(palette PNG, TIFF with compression=jpeg).", (_int(1, 2_000_000_000),)),
    OptionSpec("fast_shrink", "JPEG input: decode at the largest DCT scale that leaves a resize of at least 1.5 "
               "(default true; 8-29% less decode CPU, see BENCHMARKS.md); false keeps libvips' factor of 2 "
               "(marginally sharper on fine texture). Off when scoring: the score's reference is that decode.",
               (_bool(),)),
    OptionSpec("min_score", "The smallest output (lowest quality, up to `quality`, else 100) whose quality score "
               "reaches this; 422 min_score_unreachable when none does. Needs a lossy encoding.",
               (Domain("number", _ALL, 0.0, 1.0),)),
)
OPTION_BY_NAME: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}

# What format=auto may choose; TIFF is never picked for a browser.
AUTO_CANDIDATES = frozenset({OutputFormat.AVIF, OutputFormat.WEBP, OutputFormat.JPEG, OutputFormat.PNG})

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ConvertOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Validated options of one conversion. None means the encoder's default."""

    width: int | None = None
    height: int | None = None
    fit: Fit = "inside"
    enlarge: bool = False
    format: str = "jpeg"  # an OutputFormat value, or "auto"
    accepted: tuple[str, ...] = ()  # formats the client's Accept header allows, for format=auto
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
    fast_shrink: bool | None = None


def _coerce(spec: OptionSpec, domain: Domain, raw: str) -> int | float | bool | str:
    text = raw.strip()
    if domain.kind == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise OptionError(spec.name, domain.describe(), raw)
    if domain.kind == "int":
        try:
            value = int(text, 10)
        except ValueError:
            raise OptionError(spec.name, domain.describe(), raw) from None
        if domain.choices and text not in domain.choices:
            raise OptionError(spec.name, domain.describe(), raw)
        assert domain.minimum is not None and domain.maximum is not None
        if not domain.minimum <= value <= domain.maximum:
            raise OptionError(spec.name, domain.describe(), raw)
        return value
    if domain.kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise OptionError(spec.name, domain.describe(), raw) from None
        assert domain.minimum is not None and domain.maximum is not None
        if not (math.isfinite(number) and domain.minimum <= number <= domain.maximum):
            raise OptionError(spec.name, domain.describe(), raw)
        return number
    lowered = text.lower()
    if lowered not in domain.choices:
        raise OptionError(spec.name, domain.describe(), raw)
    return lowered


def parse_format(raw: str) -> str:
    return str(_coerce(OPTION_BY_NAME["format"], OPTION_BY_NAME["format"].domains[0], raw))


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
    handles itself, so they are not reported as unknown.
    """
    known = set(OPTION_BY_NAME) | set(extra)
    for name in params:
        if name not in known:
            raise OptionError(name, "a known option (" + ", ".join(sorted(OPTION_BY_NAME)) + ")", params[name])

    values: dict[str, object] = {}
    fmt = parse_format(params["format"]) if "format" in params else "jpeg"
    values["format"] = fmt
    if formats is None:
        targets = AUTO_CANDIDATES if fmt == "auto" else frozenset({OutputFormat(fmt)})
    else:
        targets = frozenset(formats)

    for name, raw in params.items():
        spec = OPTION_BY_NAME.get(name)
        if spec is None or name == "format":
            continue
        applicable = [f for f in targets if spec.domain_for(f) is not None]
        if not applicable:
            wanted = ", ".join(sorted(f.value for f in spec.formats))
            chosen = ", ".join(sorted(f.value for f in targets))
            raise OptionError(name, f"no {name} with format {chosen} (it applies to {wanted})", raw)
        # One value must be valid for every targeted format that uses the option.
        parsed: int | float | bool | str | None = None
        for domain in {spec.domain_for(f) for f in applicable}:
            assert domain is not None
            parsed = _coerce(spec, domain, raw)
        values[name] = parsed

    for name in ("width", "height"):
        value = values.get(name)
        if isinstance(value, int) and value > max_dimension:
            raise OptionError(name, f"an integer between 1 and {max_dimension}", params[name])
    values["accepted"] = tuple(accepted)
    return msgspec.convert(values, ConvertOptions)


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
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        media = media.strip().lower()
        if media == "image/avif":
            found.append("avif")
        elif media == "image/webp":
            found.append("webp")
    return tuple(dict.fromkeys(found))
