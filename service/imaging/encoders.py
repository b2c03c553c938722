"""Each output format's saver call, derived from the option table.

Every option whose domain names a libvips parameter becomes that parameter, with the value given
or the table's default for the format. What a table cannot say (one option implying another, a
parameter that only means something with another one) is a rule per format below, each saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from .domains import Value
from .formats import REQUIRED_SAVERS, OutputFormat
from .options import OPTIONS, ConvertOptions

SaverParams = dict[str, Value]


def table_params(fmt: OutputFormat, options: ConvertOptions) -> SaverParams:
    """The libvips parameters the option table gives for this format: given value, else default."""
    params: SaverParams = {}
    for spec in OPTIONS:
        domain = spec.domain_for(fmt)
        if domain is None or domain.param is None or not spec.in_convert_options:
            continue
        value = options.value(spec.name)
        if value is None:
            value = domain.default
        if value is not None:
            params[domain.param] = domain.vips_value(value)
    return params


def _jpeg(o: ConvertOptions, p: SaverParams) -> None:
    if o.optimize_scans:
        p["interlace"] = True  # scans only exist in a progressive file


def _png_bitdepth(colors: int) -> int:
    for depth in (1, 2, 4):
        if colors <= 2**depth:
            return depth
    return 8


def _png(o: ConvertOptions, p: SaverParams) -> None:
    # A quality or a colour count only means something for a palette image (as in sharp).
    palette = bool(o.palette) or o.colors is not None or (o.quality is not None and o.palette is not False)
    if not palette:
        for key in ("palette", "Q", "effort"):
            p.pop(key, None)
        return
    p["palette"] = True
    if o.colors is not None:
        p["bitdepth"] = _png_bitdepth(o.colors)


def _avif(o: ConvertOptions, p: SaverParams) -> None:
    p["compression"] = "av1"  # heifsave writes HEVC otherwise


def _tiff(o: ConvertOptions, p: SaverParams) -> None:
    compression = p["compression"]
    if compression != "jpeg":
        p.pop("Q", None)  # quality is the JPEG codec's inside the TIFF
    if compression in ("lzw", "deflate", "zstd") and o.predictor is None:
        p["predictor"] = "horizontal"  # the original's choice; libvips would use none
    if o.pyramid:
        p["tile"] = True  # libvips pyramids are tiled


def _webp(o: ConvertOptions, p: SaverParams) -> None:
    pass


_RULES: dict[OutputFormat, Callable[[ConvertOptions, SaverParams], None]] = {
    OutputFormat.JPEG: _jpeg,
    OutputFormat.PNG: _png,
    OutputFormat.WEBP: _webp,
    OutputFormat.AVIF: _avif,
    OutputFormat.TIFF: _tiff,
}


def saver_call(fmt: OutputFormat, options: ConvertOptions) -> tuple[str, SaverParams]:
    """The libvips saver operation name and its keyword arguments for this format and options."""
    params = table_params(fmt, options)
    _RULES[fmt](options, params)
    return REQUIRED_SAVERS[fmt], params


def effective_quality(fmt: OutputFormat, options: ConvertOptions) -> int | None:
    """The quality the encoder really uses (None when the format ignores quality here)."""
    q = saver_call(fmt, options)[1].get("Q")
    return q if isinstance(q, int) else None
