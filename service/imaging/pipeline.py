"""The conversion pipeline, one named step each, in the order they run:

    probe -> fit_geometry -> load -> to_srgb -> pad_to_canvas -> choose_format -> flatten_for -> encode

A batch decodes once per decode group (`groups.py`) and adds one step before encoding:

    probe -> fit_geometry -> load -> to_srgb -> pad_to_canvas -> scale_to_widths -> (each) encode

Runs inside a worker process (or the bench's ceiling loop): it imports pyvips, so the server
process never imports this module. Limits are checked from the header, before any pixel is decoded.
"""

from __future__ import annotations

import time

import msgspec
import pyvips

from ..errors import UNPROCESSABLE, UNSUPPORTED_MEDIA
from .errors import ImageError, vips_reason
from .formats import ALLOWED_LOADERS, OutputFormat, sniff_refused_type
from .geometry import Geometry, fit_geometry, jpeg_shrink, upright_size
from .options import ConvertOptions
from .search import encode_for
from .tasks import Converted, Limits

__all__ = [
    "FAST_SHRINK_HEADROOM",
    "Decoded",
    "Source",
    "check_geometry",
    "check_whole",
    "choose_format",
    "convert",
    "decode",
    "load",
    "pad_to_canvas",
    "probe",
    "scale_to_widths",
    "shrink_scale",
    "to_srgb",
]


class Source(msgspec.Struct, frozen=True):
    """What the header says about an input, with width/height already upright."""

    input_type: str
    width: int
    height: int
    has_alpha: bool
    has_icc: bool
    orientation: int
    interlaced: bool
    metadata_bytes: int = 0  # EXIF, ICC, XMP, comments: what an output keeping metadata may carry


def _metadata_size(header: pyvips.Image, name: str) -> int:
    if not name.endswith(("-data", "comment")) and not name.startswith("png-comment"):
        return 0
    value = header.get(name)
    return len(value) if isinstance(value, bytes | str) else 0


def _loader_of(data: bytes) -> str | None:
    name = pyvips.vips_lib.vips_foreign_find_load_buffer(data, len(data))
    if name == pyvips.ffi.NULL:
        pyvips.vips_lib.vips_error_clear()  # its "not a known format" must not prefix a later error
        return None
    loader: str = pyvips.ffi.string(name).decode()
    return loader.removesuffix("Buffer")


def probe(data: bytes, limits: Limits) -> Source:
    """Identify the input and check it against the limits, reading only its header."""
    if not data:
        raise ImageError(UNSUPPORTED_MEDIA, "The request carried no image (empty body)", "image")
    loader = _loader_of(data)
    if loader is None or loader not in ALLOWED_LOADERS:
        kind = sniff_refused_type(data)
        accepted = "JPEG, PNG, WebP, AVIF/HEIF, TIFF or GIF"
        if kind:
            msg = f"{kind} input is not accepted; send {accepted}"
        else:
            msg = f"The upload is not a recognised image; send {accepted}"
        raise ImageError(UNSUPPORTED_MEDIA, msg, "image")
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        fields = set(header.get_fields())
        orientation = int(header.get("orientation")) if "orientation" in fields else 1
        width, height = upright_size(header.width, header.height, orientation)
        source = Source(
            input_type=ALLOWED_LOADERS[loader],
            width=width,
            height=height,
            has_alpha=bool(header.hasalpha()),
            has_icc="icc-profile-data" in fields,
            orientation=orientation,
            interlaced=bool(header.get("interlaced")) if "interlaced" in fields else False,
            metadata_bytes=sum(_metadata_size(header, name) for name in fields),
        )
    except pyvips.Error as exc:
        raise ImageError(UNPROCESSABLE, f"The image header is corrupt: {vips_reason(exc)}", "image") from None
    _check_decode_cost(source, limits)
    pixels = source.width * source.height
    if pixels > limits.max_input_pixels:
        raise ImageError(
            UNPROCESSABLE,
            f"The image is {source.width}x{source.height} = {pixels} pixels, over the limit of "
            f"{limits.max_input_pixels} pixels",
            "image",
        )
    return source


def _check_decode_cost(source: Source, limits: Limits) -> None:
    """Decoding costs per row and per strip as well as per pixel: a 1 x 49,000,000 PNG is under the
    pixel limit yet holds a worker for the whole deadline. Refused here, from the header alone."""
    longest, shortest = max(source.width, source.height), min(source.width, source.height)
    size = f"{source.width}x{source.height}"
    if longest > limits.max_input_dimension:
        raise ImageError(
            UNPROCESSABLE,
            f"The image is {size}: its longest side is over the limit of {limits.max_input_dimension} pixels "
            "(MAX_INPUT_DIMENSION)",
            "image",
        )
    if longest > shortest * limits.max_input_aspect_ratio:
        raise ImageError(
            UNPROCESSABLE,
            f"The image is {size}: its sides' ratio is over the limit of {limits.max_input_aspect_ratio}:1 "
            "(MAX_INPUT_ASPECT_RATIO)",
            "image",
        )


def check_whole(data: bytes, input_type: str) -> None:
    """Refuse an upload cut short, from its bytes alone, in microseconds: a JPEG without the end
    marker after its last scan, a PNG without IEND, a WebP shorter than its RIFF size. A job checks
    this at submission instead of decoding (a decode can take the whole deadline); other types,
    and damage inside the data, fail at the decode item with the reason recorded."""
    if input_type == "jpeg":
        whole = data.rfind(b"\xff\xd9") > data.rfind(b"\xff\xda") >= 0  # EOI after the last start of scan
    elif input_type == "png":
        whole = data.rfind(b"IEND") > 8
    elif input_type == "webp":
        whole = len(data) >= int.from_bytes(data[4:8], "little") + 8
    else:
        whole = True
    if not whole:
        raise ImageError(
            UNPROCESSABLE,
            f"The image could not be decoded (truncated or corrupt?): the {input_type} data ends early",
            "image",
        )


def choose_format(options: ConvertOptions, source: Source) -> OutputFormat:
    if options.format != "auto":
        return OutputFormat(options.format)
    if "avif" in options.accepted:
        return OutputFormat.AVIF
    if "webp" in options.accepted:
        return OutputFormat.WEBP
    return OutputFormat.PNG if source.has_alpha else OutputFormat.JPEG


def check_geometry(plan: Geometry, limits: Limits) -> None:
    if plan.output_pixels > limits.max_output_pixels:
        raise ImageError(
            UNPROCESSABLE,
            f"The output would be {plan.canvas_width}x{plan.canvas_height} = {plan.output_pixels} pixels, "
            f"over the limit of {limits.max_output_pixels} pixels",
            "width",
        )


# The resize left after a fast JPEG shrink-on-load: libvips' thumbnail keeps 2 (3840 -> 1200 decodes
# at full size, -> 320 at 1/4), sharp's fastShrinkOnLoad and Pillow's draft keep 1. Measured with
# `python -m bench.studies.defaults shrink` (BENCHMARKS.md): at 1.2 (1920 -> 800 from a 1/2 decode) a
# grass texture loses 0.03 of score at q75, at 1.5 and more at most 0.006 and on most photos under
# 0.002, for 8-29% less decode CPU.
FAST_SHRINK_HEADROOM = 1.5


def shrink_scale(source: Source, plan: Geometry) -> float:
    """The output's scale for the shrink-on-load rule (geometry.jpeg_shrink): cover scales by the larger."""
    return max(plan.width / source.width, plan.height / source.height)


def load(data: bytes, source: Source, plan: Geometry, shrink: int = 1) -> pyvips.Image:
    """Decode straight to the planned size: JPEG/WebP shrink on load, HEIF uses its thumbnail,
    EXIF orientation is applied, an embedded ICC profile is converted to sRGB. A `shrink` above 1
    decodes a JPEG at that DCT scale first (the fast path), then resizes."""
    # thumbnail ignores a fail_on keyword; the loader only sees it through option_string. Without
    # it a truncated upload decodes "successfully" with grey where the missing data was.
    kwargs: dict[str, object] = {"height": plan.height, "size": plan.size}
    if plan.crop:
        kwargs["crop"] = "centre"
    if source.has_icc:
        kwargs["output_profile"] = "srgb"
    try:
        if shrink > 1:
            # thumbnail_image resizes, rotates and converts colour exactly as thumbnail_buffer would,
            # from pixels the loader already shrank in the DCT domain.
            loaded = pyvips.Image.new_from_buffer(data, "", shrink=shrink, fail_on="error", access="sequential")
            image = loaded.thumbnail_image(plan.width, **kwargs)
        else:
            image = pyvips.Image.thumbnail_buffer(data, plan.width, option_string="fail_on=error", **kwargs)
        return to_srgb(image).copy_memory()  # decode now, so decode and encode are timed apart
    except pyvips.Error as exc:
        raise ImageError(
            UNPROCESSABLE,
            f"The image could not be decoded (truncated or corrupt?): {vips_reason(exc)}",
            "image",
        ) from None


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation in ("srgb", "b-w") and image.format == "uchar":
        return image
    if image.interpretation in ("b-w", "grey16"):
        return image.colourspace("b-w")
    return image.colourspace("srgb")


def pad_to_canvas(image: pyvips.Image, plan: Geometry) -> pyvips.Image:
    """contain: centre the image on the box, transparent where alpha exists, else black (as sharp)."""
    if (image.width, image.height) == (plan.canvas_width, plan.canvas_height):
        return image
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.gravity(
        "centre", plan.canvas_width, plan.canvas_height, extend="background", background=[0] * image.bands
    )


class Decoded(msgspec.Struct, frozen=True):
    image: pyvips.Image
    source: Source
    seconds: float
    fast_shrink: bool = False  # decoded by the fast JPEG path (never when scoring)


def decode(data: bytes, options: ConvertOptions, limits: Limits) -> Decoded:
    """Every step before the encoder: header checks, planning, shrink-on-load, sRGB, canvas."""
    source = probe(data, limits)
    plan = fit_geometry(source.width, source.height, options)
    check_geometry(plan, limits)
    started = time.perf_counter()
    # A score compares against the high-quality decode, so scoring decodes that way: the pixels
    # encoded are then the score's reference, in convert, batch and job items alike.
    scoring = options.score or options.min_score is not None
    fast = options.fast_shrink is not False and not scoring and source.input_type == "jpeg"
    scale = shrink_scale(source, plan)
    shrink = jpeg_shrink(scale, FAST_SHRINK_HEADROOM) if fast else 1
    # Only where it decodes smaller than libvips' own shrink-on-load would: otherwise the same work.
    if shrink <= jpeg_shrink(scale):
        shrink = 1
    image = pad_to_canvas(load(data, source, plan, shrink), plan)
    return Decoded(image, source, time.perf_counter() - started, shrink > 1)


def scale_to_widths(
    decoded: Decoded, options: ConvertOptions, widths: tuple[int | None, ...]
) -> list[tuple[int | None, pyvips.Image]]:
    """Batch: every other width of a decode group from its one decode. A resize is far cheaper
    than decoding again; sizes come from the same plan a single conversion would use, so a batch
    output has exactly the size /api/convert gives for that width."""
    image, source = decoded.image, decoded.source
    by_size: dict[tuple[int, int], pyvips.Image] = {}
    scaled: list[tuple[int | None, pyvips.Image]] = []
    for width in widths:
        plan = fit_geometry(source.width, source.height, msgspec.structs.replace(options, width=width))
        size = (plan.canvas_width, plan.canvas_height)
        if size not in by_size:
            by_size[size] = (
                image
                if size == (image.width, image.height)
                else image.resize(size[0] / image.width, vscale=size[1] / image.height)
            )
        scaled.append((width, by_size[size]))
    return scaled


def convert(data: bytes, options: ConvertOptions, limits: Limits) -> Converted:
    decoded = decode(data, options, limits)
    fmt = choose_format(options, decoded.source)
    started = time.perf_counter()
    outcome = encode_for(decoded.image, fmt, options)
    return Converted(
        data=outcome.data,
        width=decoded.image.width,
        height=decoded.image.height,
        format=fmt.value,
        input_type=decoded.source.input_type,
        input_width=decoded.source.width,
        input_height=decoded.source.height,
        decode_seconds=decoded.seconds,
        encode_seconds=time.perf_counter() - started,
        quality=outcome.quality,
        score=outcome.score,
        attempts=outcome.attempts,
    )
