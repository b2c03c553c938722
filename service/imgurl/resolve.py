"""From an /img URL's options (imgproxy's meanings) to one conversion's `ConvertOptions`.

imgproxy's resizing types map onto the geometry's fits: fit -> inside (extend: contain), fill ->
cover, force -> fill (stretch). Three need the source's size, which the caller supplies when
`needs_source_size` says so: auto (fill or fit by orientation), fill-down (a smaller source is
cropped to the box's aspect ratio) and force with a 0 side (that side keeps the source's length).
The values are checked once more by the option table's parser (`imaging/parsing.py`), so a URL
can ask for nothing /api/convert could not. No web imports.
"""

from __future__ import annotations

import msgspec

from ..imaging.errors import OptionError
from ..imaging.formats import OutputFormat
from ..imaging.options import ConvertOptions
from ..imaging.parsing import parse_options
from .errors import InvalidUrlOption
from .urloptions import FORMAT_EXTENSIONS, UrlOptions

__all__ = [
    "SourceFacts",
    "canonical",
    "needs_source_size",
    "negotiated",
    "output_format",
    "to_convert_options",
    "with_extension",
]

# A source's input type (imaging/formats.py ALLOWED_LOADERS) -> the output format that keeps it.
_SAME_FORMAT: dict[str, OutputFormat] = {
    "jpeg": OutputFormat.JPEG,
    "png": OutputFormat.PNG,
    "webp": OutputFormat.WEBP,
    "tiff": OutputFormat.TIFF,
    "heif": OutputFormat.AVIF,
    "gif": OutputFormat.PNG,  # no GIF encoder: PNG keeps its palette and transparency
}


class SourceFacts(msgspec.Struct, frozen=True):
    """What the caller knows about the source: its type (from its first bytes) and, when asked
    for, its upright size."""

    input_type: str | None = None
    width: int | None = None
    height: int | None = None


def with_extension(options: UrlOptions, extension: str | None) -> UrlOptions:
    """The URL's extension is the format option written at the end (the option wins when both are)."""
    if extension is None or options.format is not None:
        return options
    fmt = FORMAT_EXTENSIONS.get(extension)
    if fmt is None:
        raise InvalidUrlOption("extension", "one of " + ", ".join(FORMAT_EXTENSIONS), extension)
    return msgspec.structs.replace(options, format=fmt.value)


def canonical(options: UrlOptions) -> bytes:
    """The request's processing in one form, however the URL spelled it (short names, presets)."""
    return msgspec.json.encode(options)


def needs_source_size(options: UrlOptions) -> bool:
    kind = options.resizing_type
    if kind in ("auto", "fill-down"):
        return bool(options.width and options.height)
    return kind == "force" and (options.width == 0) != (options.height == 0)


def negotiated(options: UrlOptions, accepted: tuple[str, ...]) -> str | None:
    """Which Accept-dependent choice made the format: avif, webp or source; None when the URL names one."""
    if options.format is not None:
        return None
    if "avif" in accepted:
        return "avif"
    if "webp" in accepted:
        return "webp"
    return "source"


def output_format(options: UrlOptions, accepted: tuple[str, ...], facts: SourceFacts) -> OutputFormat:
    if options.format is not None:
        return OutputFormat(options.format)
    choice = negotiated(options, accepted)
    if choice in ("avif", "webp"):
        return OutputFormat(choice)
    return _SAME_FORMAT.get(facts.input_type or "", OutputFormat.JPEG)


def _fill_down_box(width: int, height: int, src_w: int, src_h: int) -> tuple[int, int]:
    """The largest box of the requested aspect ratio the source holds (when it is smaller than asked)."""
    if src_w >= width and src_h >= height:
        return width, height
    box_w = min(src_w, max(1, round(src_h * width / height)))
    box_h = min(src_h, max(1, round(src_w * height / width)))
    return box_w, box_h


def _geometry(options: UrlOptions, facts: SourceFacts) -> tuple[int | None, int | None, str]:
    width = round(options.width * options.dpr) if options.width else None
    height = round(options.height * options.dpr) if options.height else None
    kind = options.resizing_type
    if kind in ("auto", "fill-down", "force") and needs_source_size(options):
        if facts.width is None or facts.height is None:
            raise ValueError(f"resizing type {kind} needs the source's size")  # the caller's mistake, not the client's
        src_w, src_h = facts.width, facts.height
        if kind == "auto":
            kind = "fill" if (src_w >= src_h) == ((width or 0) >= (height or 0)) else "fit"
        elif kind == "force":
            width, height = width or src_w, height or src_h
        elif not options.enlarge and width is not None and height is not None:
            width, height = _fill_down_box(width, height, src_w, src_h)
    if options.extend and kind != "fit":
        raise InvalidUrlOption("extend", "extend with resizing type fit (the others are not done yet)", kind)
    fit = {"fit": "contain" if options.extend else "inside", "fill": "cover", "fill-down": "cover", "force": "fill"}
    return width, height, fit.get(kind, "inside")


def to_convert_options(
    options: UrlOptions, facts: SourceFacts, accepted: tuple[str, ...], max_dimension: int
) -> ConvertOptions:
    """The conversion an /img URL asks for, checked by the option table like /api/convert's."""
    width, height, fit = _geometry(options, facts)
    params = {
        "fit": fit,
        "enlarge": str(options.enlarge),
        "format": output_format(options, accepted, facts).value,
        "keep_metadata": str(not options.strip_metadata),
        "score": str(options.score),
    }
    optional = {
        "width": width,
        "height": height,
        "quality": options.quality or None,
        "max_bytes": options.max_bytes or None,
        "min_score": options.min_score,
    }
    params.update({name: str(value) for name, value in optional.items() if value is not None})
    try:
        return parse_options(params, max_dimension=max_dimension)
    except OptionError as exc:
        if options.dpr != 1.0 and exc.field in ("width", "height"):
            raise InvalidUrlOption("dpr", f"{exc.expected} as {exc.field} x dpr", exc.received) from None
        raise InvalidUrlOption(exc.field or "options", exc.expected, exc.received) from None
