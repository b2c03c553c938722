"""Conversion options: one declaration per option, from which everything else is derived.

Each `OptionSpec` says once what an option is called, what it means, which group it belongs to,
and per output format (`Domain`): the values it accepts, the default the API uses when it is
omitted, the default the browser UI preselects, and the libvips saver parameter it becomes.

Derived from this table: the parser below (one range check per value, errors that name the
field, the allowed values and what was received), `ConvertOptions` (checked against the table
when this module is imported), the encoder mapping (`encoders.py`), the original service's field
names (`api/seed.py`), the OpenAPI parameters (`api/openapi.py`), the `GET /api/options`
document (`api/catalog.py`) and the README options table (`python -m service.docs`).

Values arrive as strings (query parameters or form fields). No web or libvips imports: this
module runs in the server and in the workers.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .domains import (
    IN_ALL,
    IN_AVIF,
    IN_JPEG,
    IN_PNG,
    IN_TIFF,
    IN_WEBP,
    MAX_DIMENSION,
    Domain,
    OptionSpec,
    Value,
    bool_domain,
    choice_domain,
    int_domain,
)
from .formats import OutputFormat

__all__ = [
    "AUTO_CANDIDATES",
    "BATCH_NAMES",
    "BATCH_OPTIONS",
    "CONVERT_OPTIONS",
    "FITS",
    "FORMAT_CHOICES",
    "KEEP_ALL",
    "KEEP_NONE",
    "OPTIONS",
    "OPTION_BY_NAME",
    "SEED_NAMES",
    "SUBSAMPLING",
    "ConvertOptions",
    "Fit",
]

Fit = Literal["inside", "cover", "contain", "fill", "outside"]

FITS: tuple[str, ...] = ("inside", "cover", "contain", "fill", "outside")
FORMAT_CHOICES: tuple[str, ...] = (*(f.value for f in OutputFormat), "auto")

KEEP_NONE = 0  # VipsForeignKeep: strip everything
KEEP_ALL = 31  # exif | xmp | iptc | icc | other

SUBSAMPLING = ("auto", "4:2:0", "4:4:4")
_SUBSAMPLE: dict[Value, Value] = {"auto": "auto", "4:2:0": "on", "4:4:4": "off"}
_KEEP: dict[Value, Value] = {False: KEEP_NONE, True: KEEP_ALL}

OPTIONS: tuple[OptionSpec, ...] = (
    # geometry: used by the resize planner (plan.py), not by an encoder
    OptionSpec(
        "width",
        "geometry",
        "Output width in pixels; height follows the aspect ratio when omitted.",
        (int_domain(1, MAX_DIMENSION, dimension=True),),
        seed_name="width",
    ),
    OptionSpec(
        "height",
        "geometry",
        "Output height in pixels; width follows the aspect ratio when omitted.",
        (int_domain(1, MAX_DIMENSION, dimension=True),),
        seed_name="height",
    ),
    OptionSpec(
        "fit",
        "geometry",
        "How the image fits width x height: inside (keep aspect, within the box), "
        "cover (fill the box, crop the centre), contain (within the box, padded to it), "
        "fill (stretch, ignore aspect), outside (keep aspect, at least the box).",
        (choice_domain(FITS, default="inside"),),
    ),
    OptionSpec("enlarge", "geometry", "Allow the output to be larger than the input.", (bool_domain(),)),
    # output
    OptionSpec(
        "format",
        "output",
        "Output format; auto picks AVIF, WebP or JPEG from the Accept header "
        "(PNG for images with alpha when neither AVIF nor WebP is accepted).",
        (choice_domain(FORMAT_CHOICES, default="jpeg"),),
        seed_name="format",
    ),
    OptionSpec(
        "quality",
        "output",
        "Encoder quality; each format has its own default. For PNG it turns on "
        "palette quantisation at that quality; for TIFF it applies to jpeg compression.",
        (
            int_domain(1, 100, IN_JPEG, default=80, param="Q"),
            int_domain(
                1, 100, IN_WEBP, default=80, param="Q", when=({"lossless": (False,)}, {"near_lossless": (True,)})
            ),
            int_domain(1, 100, IN_TIFF, default=80, param="Q", when=({"compression": ("jpeg",)},)),
            int_domain(1, 100, IN_AVIF, default=50, param="Q", when=({"lossless": (False,)},)),
            int_domain(1, 100, IN_PNG, default=100, param="Q", when=({"palette": (True,)},)),
        ),
        seed_name="quality",
    ),
    OptionSpec(
        "keep_metadata",
        "output",
        "Keep EXIF/XMP/IPTC/ICC metadata (otherwise stripped; the image is "
        "always converted to sRGB and rotated upright).",
        (bool_domain(param="keep", to_vips=_KEEP),),
    ),
    # JPEG (mozjpeg). The UI preselects what the original page had checked: every mozjpeg option and
    # sharp's `mozjpeg` preset (quant table 3), 4:2:0; the API keeps libvips' defaults when omitted.
    OptionSpec(
        "progressive",
        "encoder",
        "JPEG: progressive (interlaced) scan order.",
        (bool_domain(IN_JPEG, param="interlace", ui=True),),
        seed_name="progressive",
    ),
    OptionSpec(
        "optimize_scans",
        "encoder",
        "JPEG: split DCT coefficients into separate scans (implies progressive).",
        (bool_domain(IN_JPEG, param="optimize_scans", ui=True, when=({"progressive": (True,)},)),),
        seed_name="optimizeScans",
    ),
    OptionSpec(
        "trellis_quant",
        "encoder",
        "JPEG: trellis quantisation (mozjpeg; smaller, slower).",
        (bool_domain(IN_JPEG, param="trellis_quant", ui=True),),
        seed_name="trellisQuantisation",
    ),
    OptionSpec(
        "overshoot_deringing",
        "encoder",
        "JPEG: overshoot deringing (mozjpeg) for black text on white.",
        (bool_domain(IN_JPEG, param="overshoot_deringing", ui=True),),
        seed_name="overshootDeringing",
    ),
    OptionSpec(
        "optimize_coding",
        "encoder",
        "JPEG: compute optimal Huffman tables.",
        (bool_domain(IN_JPEG, default=True, param="optimize_coding"),),
        seed_name="optimizeCoding",
    ),
    OptionSpec(
        "quant_table",
        "encoder",
        "JPEG: mozjpeg quantisation table (3 is sharp's mozjpeg preset).",
        (int_domain(0, 8, IN_JPEG, default=0, param="quant_table", ui=3),),
    ),
    OptionSpec(
        "chroma_subsampling",
        "encoder",
        "JPEG/AVIF chroma subsampling: auto (4:2:0 below quality 90), "
        "4:2:0 or 4:4:4. JPEG defaults to 4:2:0 as the original service did.",
        (
            choice_domain(SUBSAMPLING, IN_JPEG, default="4:2:0", param="subsample_mode", to_vips=_SUBSAMPLE),
            choice_domain(
                SUBSAMPLING,
                IN_AVIF,
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
            int_domain(0, 9, IN_PNG, default=6, param="compression"),
            choice_domain(("none", "lzw", "deflate", "jpeg", "zstd"), IN_TIFF, default="lzw", param="compression"),
        ),
    ),
    OptionSpec(
        "palette",
        "encoder",
        "PNG: quantise to an 8-bit palette (libimagequant).",
        (bool_domain(IN_PNG, param="palette"),),
    ),
    OptionSpec(
        "colors",
        "encoder",
        "PNG: palette size (implies palette).",
        (int_domain(2, 256, IN_PNG, ui=256, when=({"palette": (True,)},)),),
    ),
    OptionSpec(
        "effort",
        "encoder",
        "CPU effort: for PNG of palette quantisation, for WebP and AVIF of compression.",
        (
            int_domain(1, 10, IN_PNG, default=7, param="effort", when=({"palette": (True,)},)),
            int_domain(0, 6, IN_WEBP, default=4, param="effort"),
            int_domain(
                0, 9, IN_AVIF, default=3, param="effort"
            ),  # libaom speed 6: see DEFAULT_AVIF_EFFORT in BENCHMARKS.md
        ),
    ),
    OptionSpec(
        "lossless", "encoder", "WebP/AVIF: lossless compression.", (bool_domain(IN_WEBP | IN_AVIF, param="lossless"),)
    ),
    OptionSpec(
        "near_lossless",
        "encoder",
        "WebP: near-lossless preprocessing (uses quality).",
        (bool_domain(IN_WEBP, param="near_lossless", when=({"lossless": (True,)},)),),
    ),
    OptionSpec(
        "alpha_quality",
        "encoder",
        "WebP: alpha plane quality.",
        (int_domain(0, 100, IN_WEBP, default=100, param="alpha_q"),),
    ),
    OptionSpec(
        "smart_subsample",
        "encoder",
        "WebP: high quality chroma subsampling.",
        (bool_domain(IN_WEBP, param="smart_subsample", when=({"lossless": (False,)},)),),
    ),
    OptionSpec(
        "bitdepth",
        "encoder",
        "AVIF: bits per sample (when omitted: 8 for 8-bit images, 12 for 16-bit).",
        (int_domain(8, 12, IN_AVIF, choices=("8", "10", "12"), param="bitdepth", ui=8),),
    ),
    OptionSpec(
        "predictor",
        "encoder",
        "TIFF: compression predictor (horizontal by default with lzw, deflate and zstd).",
        (
            choice_domain(
                ("none", "horizontal", "float"),
                IN_TIFF,
                param="predictor",
                ui="horizontal",
                when=({"compression": ("lzw", "deflate", "zstd")},),
            ),
        ),
    ),
    OptionSpec("tile", "encoder", "TIFF: write a tiled TIFF.", (bool_domain(IN_TIFF, param="tile"),)),
    OptionSpec(
        "pyramid", "encoder", "TIFF: write a pyramidal TIFF (implies tile).", (bool_domain(IN_TIFF, param="pyramid"),)
    ),
    # targets (service/imaging/search.py) and the quality score (service/imaging/quality.py)
    OptionSpec(
        "score",
        "output",
        "Also measure the output's quality score: SSIM on luminance (0..1) against the same input at the same "
        "size before encoding; convert answers it in X-Quality-Score, batch and jobs in each output's score.",
        (bool_domain(),),
    ),
    OptionSpec(
        "max_bytes",
        "output",
        "The highest quality (up to quality, else the format's default) whose output fits this many bytes; "
        "422 max_bytes_unreachable when even quality 1 does not. Needs a lossy encoding (palette PNG, TIFF with "
        "compression=jpeg).",
        (int_domain(1, 2_000_000_000),),
    ),
    OptionSpec(
        "min_score",
        "output",
        "The smallest output (lowest quality, up to quality, else 100) whose quality score reaches this; "
        "422 min_score_unreachable when none does. Needs a lossy encoding.",
        (Domain("number", IN_ALL, 0.0, 1.0),),
    ),
    OptionSpec(
        "fast_shrink",
        "geometry",
        "JPEG input: decode at the largest DCT scale that leaves a resize of at least 1.5 (8-29% less decode "
        "CPU, see BENCHMARKS.md); false keeps libvips' factor of 2 (marginally sharper on fine texture). Off "
        "when scoring: the score's reference is that decode.",
        (bool_domain(default=True),),
    ),
    # batch: the grid of one upload (POST /api/batch and jobs); not part of ConvertOptions
    OptionSpec(
        "widths",
        "batch",
        "Output widths, comma separated or repeated (default: width).",
        (int_domain(1, MAX_DIMENSION, dimension=True),),
        repeated=True,
    ),
    OptionSpec(
        "qualities",
        "batch",
        "Qualities, comma separated or repeated (default: quality).",
        (int_domain(1, 100, default=None),),
        repeated=True,
    ),
    OptionSpec(
        "formats",
        "batch",
        "Output formats, comma separated or repeated (default: format).",
        (choice_domain(tuple(f.value for f in OutputFormat)),),
        repeated=True,
    ),
    OptionSpec(
        "response",
        "batch",
        "zip: a ZIP streamed as outputs finish; json: a manifest with data URLs.",
        (choice_domain(("zip", "json"), default="zip"),),
    ),
)
OPTION_BY_NAME: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}
CONVERT_OPTIONS: tuple[OptionSpec, ...] = tuple(spec for spec in OPTIONS if spec.in_convert_options)
BATCH_OPTIONS: tuple[OptionSpec, ...] = tuple(spec for spec in OPTIONS if spec.group == "batch")
BATCH_NAMES: tuple[str, ...] = tuple(spec.name for spec in BATCH_OPTIONS)  # `extra=` of parse_options
SEED_NAMES: dict[str, str] = {spec.seed_name: spec.name for spec in OPTIONS if spec.seed_name}


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
