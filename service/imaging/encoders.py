"""Each output format's encoder: our option names mapped to libvips saver parameters, in one place.

Defaults are written next to the mapping so the README and the code cannot disagree.
"""

from __future__ import annotations

from typing import Any

from .formats import REQUIRED_SAVERS, OutputFormat
from .options import ConvertOptions

KEEP_NONE = 0  # VipsForeignKeep: strip everything
KEEP_ALL = 31  # exif | xmp | iptc | icc | other

DEFAULT_QUALITY = {
    OutputFormat.JPEG: 80,
    OutputFormat.PNG: 100,  # only used when palette quantisation is on
    OutputFormat.WEBP: 80,
    OutputFormat.AVIF: 50,
    OutputFormat.TIFF: 80,  # only used with jpeg compression
}
_SUBSAMPLE = {"auto": "auto", "4:2:0": "on", "4:4:4": "off"}


def _set(params: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        params[key] = value


def _jpeg(o: ConvertOptions) -> dict[str, Any]:
    p: dict[str, Any] = {"Q": o.quality or DEFAULT_QUALITY[OutputFormat.JPEG]}
    # Huffman optimisation costs little and saves a few percent: on unless turned off.
    p["optimize_coding"] = True if o.optimize_coding is None else o.optimize_coding
    _set(p, "interlace", o.progressive)
    _set(p, "trellis_quant", o.trellis_quant)
    _set(p, "overshoot_deringing", o.overshoot_deringing)
    if o.optimize_scans:
        p["optimize_scans"] = True
        p["interlace"] = True  # scans only exist in a progressive file
    _set(p, "quant_table", o.quant_table)
    # 4:2:0 unless asked otherwise, as sharp and so the original service did. libvips' own "auto"
    # drops subsampling from Q 90 up: a 40% larger, 35% slower JPEG than clients of the original got.
    p["subsample_mode"] = _SUBSAMPLE[o.chroma_subsampling or "4:2:0"]
    return p


def _png_bitdepth(colors: int) -> int:
    for depth in (1, 2, 4):
        if colors <= 2**depth:
            return depth
    return 8


def _png(o: ConvertOptions) -> dict[str, Any]:
    p: dict[str, Any] = {"compression": 6 if o.compression is None else o.compression}
    # A quality or a colour count only means something for a palette image (as in sharp).
    palette = bool(o.palette) or o.colors is not None or (o.quality is not None and o.palette is not False)
    if palette:
        p["palette"] = True
        p["Q"] = o.quality or DEFAULT_QUALITY[OutputFormat.PNG]
        if o.colors is not None:
            p["bitdepth"] = _png_bitdepth(o.colors)
        _set(p, "effort", o.effort)
    return p


def _webp(o: ConvertOptions) -> dict[str, Any]:
    p: dict[str, Any] = {"Q": o.quality or DEFAULT_QUALITY[OutputFormat.WEBP]}
    _set(p, "lossless", o.lossless)
    _set(p, "near_lossless", o.near_lossless)
    _set(p, "alpha_q", o.alpha_quality)
    _set(p, "effort", o.effort)
    _set(p, "smart_subsample", o.smart_subsample)
    return p


# libaom speed 6 (= 9 - effort), as Pillow and libavif default to: 4-5x less CPU than libvips'
# effort 4 for +6.5% bytes at equal score (median over 4 photos x 2 widths; bench/defaults.py,
# BENCHMARKS.md). Effort 2 and below cost 30-40% more bytes; WebP keeps libwebp's 4 (3 is no faster).
DEFAULT_AVIF_EFFORT = 3


def _avif(o: ConvertOptions) -> dict[str, Any]:
    p: dict[str, Any] = {"compression": "av1", "Q": o.quality or DEFAULT_QUALITY[OutputFormat.AVIF]}
    _set(p, "lossless", o.lossless)
    p["effort"] = DEFAULT_AVIF_EFFORT if o.effort is None else o.effort
    _set(p, "bitdepth", o.bitdepth)
    if o.chroma_subsampling is not None:
        p["subsample_mode"] = _SUBSAMPLE[o.chroma_subsampling]
    return p


def _tiff(o: ConvertOptions) -> dict[str, Any]:
    compression = o.compression if isinstance(o.compression, str) else "lzw"  # the original's choice
    p: dict[str, Any] = {"compression": compression}
    if compression == "jpeg":
        p["Q"] = o.quality or DEFAULT_QUALITY[OutputFormat.TIFF]
    if compression in ("lzw", "deflate", "zstd"):
        p["predictor"] = o.predictor or "horizontal"
    elif o.predictor is not None:
        p["predictor"] = o.predictor
    if o.pyramid:
        p["pyramid"] = True
        p["tile"] = True
    else:
        _set(p, "tile", o.tile)
    return p


_MAPPERS = {
    OutputFormat.JPEG: _jpeg,
    OutputFormat.PNG: _png,
    OutputFormat.WEBP: _webp,
    OutputFormat.AVIF: _avif,
    OutputFormat.TIFF: _tiff,
}


def saver_call(fmt: OutputFormat, options: ConvertOptions) -> tuple[str, dict[str, Any]]:
    """The libvips saver operation name and its keyword arguments for this format and options."""
    params = _MAPPERS[fmt](options)
    params["keep"] = KEEP_ALL if options.keep_metadata else KEEP_NONE
    return REQUIRED_SAVERS[fmt], params
