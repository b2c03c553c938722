"""Which widths of a batch share one decode: pure arithmetic on the header, no libvips.

Width-only geometry can decode once at the largest width and scale down to the others (measured
1.5-2.4x less work than one shrink-on-load decode per width). A JPEG, though, decodes far cheaper
at 1/2, 1/4 or 1/8 scale, so widths that libvips would shrink-on-load by a larger factor form
their own group: that decode runs in parallel on another worker and costs a fraction of the full
one, so the small outputs start encoding before the big decode is done. Cover crops and explicit
heights give each width its own crop, so each width is its own group, as before.

Measured on this 2-vCPU machine (3840x2400 photo JPEG, one libvips thread, best of 3): full
decode 0.23 s; a 1/4-width output decoded with shrink-on-load 0.05 s, scaled from the full decode
0.04 s. Scaling stays cheaper in CPU, so groups only split where shrink-on-load applies (factor
>= 4) and never into more groups than there are workers: the gain is wall time, the second worker
decoding and encoding the small outputs instead of idling through the big decode.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .formats import OutputFormat
from .geometry import fit_geometry, jpeg_shrink
from .options import ConvertOptions

__all__ = ["DecodeGroup", "PlannedOutput", "decode_groups", "encode_seconds", "estimate_seconds", "plan_outputs"]


class DecodeGroup(msgspec.Struct, frozen=True):
    top: int | None  # the width the group is decoded at (None = original size, the largest)
    widths: tuple[int | None, ...]  # every requested width it serves, top first


def _order(width: int | None) -> tuple[bool, int]:
    return (width is None, width or 0)


def decode_groups(
    source_width: int, input_type: str, options: ConvertOptions, widths: Sequence[int | None], max_groups: int
) -> tuple[DecodeGroup, ...]:
    ordered = sorted(dict.fromkeys(widths), key=_order, reverse=True)  # largest first
    if options.height is not None or options.fit == "cover":
        return tuple(DecodeGroup(w, (w,)) for w in ordered)
    if input_type != "jpeg" or max_groups <= 1:
        return (DecodeGroup(ordered[0], tuple(ordered)),)
    by_shrink: dict[int, list[int | None]] = {}
    for width in ordered:
        # libvips' own shrink-on-load choice for this width: the decode it would make anyway
        by_shrink.setdefault(jpeg_shrink(width / source_width if width else 1.0), []).append(width)
    buckets = [by_shrink[s] for s in sorted(by_shrink)]  # largest widths (smallest shrink) first
    while len(buckets) > max_groups:  # too many: the smallest widths join the next larger decode
        smallest = buckets.pop()
        buckets[-1].extend(smallest)
    return tuple(DecodeGroup(b[0], tuple(b)) for b in buckets)


class PlannedOutput(msgspec.Struct, frozen=True):
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: OutputFormat
    group: int  # index into the decode groups

    @property
    def pixels(self) -> int:
        return self.width * self.height


def plan_outputs(
    source_width: int,
    source_height: int,
    input_type: str,
    options: ConvertOptions,
    widths: Sequence[int | None],
    qualities: Sequence[int | None],
    formats: Sequence[OutputFormat],
    max_groups: int,
) -> tuple[tuple[DecodeGroup, ...], tuple[PlannedOutput, ...]]:
    """Every distinct output of a batch with its exact size (the same plan a single conversion
    uses), largest first so the long encodes start early and the small ones fill in around them.
    Widths past the original all give the original size: those duplicates are made once."""
    groups = decode_groups(source_width, input_type, options, widths, max_groups)
    outputs: list[PlannedOutput] = []
    seen: set[tuple[int, int, int | None, OutputFormat]] = set()
    # Smallest width first: an output that several widths give (past the original) carries the
    # smallest width that asked for it as its requested_width (the contract).
    by_width = sorted(
        ((w, index) for index, group in enumerate(groups) for w in group.widths), key=lambda item: _order(item[0])
    )
    for width, index in by_width:
        plan = fit_geometry(source_width, source_height, msgspec.structs.replace(options, width=width))
        for fmt in formats:
            for quality in qualities:
                key = (plan.canvas_width, plan.canvas_height, quality, fmt)
                if key not in seen:
                    seen.add(key)
                    outputs.append(PlannedOutput(width, plan.canvas_width, plan.canvas_height, quality, fmt, index))
    outputs.sort(key=lambda o: -o.pixels)
    return groups, tuple(outputs)


# Rough encode cost on one core, seconds per megapixel at default settings (this 2-vCPU machine,
# bench/results): only used to refuse a synchronous batch that cannot finish before its deadline.
_SECONDS_PER_MEGAPIXEL = {
    OutputFormat.JPEG: 0.02,
    OutputFormat.WEBP: 0.12,
    OutputFormat.AVIF: 0.9,
    OutputFormat.PNG: 0.35,
    OutputFormat.TIFF: 0.02,
}
_DECODE_SECONDS_PER_MEGAPIXEL = 0.03


def encode_seconds(output: PlannedOutput) -> float:
    """A rough encode time for one output on one worker (the same table as estimate_seconds)."""
    return _SECONDS_PER_MEGAPIXEL[output.format] * output.pixels / 1e6


def estimate_seconds(
    source_pixels: int, groups: Sequence[DecodeGroup], outputs: Sequence[PlannedOutput], workers: int
) -> float:
    """Wall time of a batch on `workers` idle workers: the decodes, then the encodes spread evenly."""
    decode = _DECODE_SECONDS_PER_MEGAPIXEL * source_pixels / 1e6
    encode = sum(encode_seconds(o) for o in outputs)
    return decode + encode / max(1, min(workers, len(outputs)))
