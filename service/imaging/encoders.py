"""Each output format's encoder: the saver call derived from the option table, and the encode itself.

Every option whose domain names a libvips parameter becomes that parameter, with the value given
or the table's default for the format. What a table cannot say (one option implying another, a
parameter that only means something with another one) is a rule per format below, each saying why.
"""

from __future__ import annotations

from collections.abc import Callable

import pyvips

from ..errors import INVALID_OPTION, UNPROCESSABLE
from .domains import Value
from .errors import ImageError, vips_reason
from .formats import REQUIRED_SAVERS, OutputFormat
from .options import OPTIONS, ConvertOptions

__all__ = ["SaverParams", "effective_quality", "encode", "flatten_for", "saver_call", "table_params"]

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


def flatten_for(image: pyvips.Image, fmt: OutputFormat, compression: object = None) -> pyvips.Image:
    """JPEG has no alpha: composite onto white rather than let transparent pixels go black.
    A JPEG-compressed TIFF cannot carry alpha either: libtiff writes RGBA through its JPEG codec,
    but the file decodes back as grey garbage (SSIM 0.005 against its source)."""
    jpeg_tiff = fmt is OutputFormat.TIFF and compression == "jpeg"
    if (fmt.supports_alpha and not jpeg_tiff) or not image.hasalpha():
        return image
    return image.flatten(background=[255] * (image.bands - 1))


def encode(image: pyvips.Image, fmt: OutputFormat, options: ConvertOptions) -> bytes:
    saver, params = saver_call(fmt, options)
    if options.keep_metadata and fmt is OutputFormat.TIFF and "exif-data" in image.get_fields():
        # libvips writes ICC, XMP and IPTC into TIFF but not EXIF: say so rather than drop it silently.
        raise ImageError(
            INVALID_OPTION,
            "keep_metadata cannot keep this image's EXIF in TIFF output "
            "(libvips writes only ICC, XMP and IPTC there); choose another format or "
            "keep_metadata=false",
            "keep_metadata",
        )
    image = flatten_for(image, fmt, params.get("compression"))
    try:
        data: bytes = getattr(image, saver)(**params)
        return data
    except pyvips.Error as exc:
        raise ImageError(UNPROCESSABLE, f"The {fmt.value} encoder refused these options: {vips_reason(exc)}") from None
