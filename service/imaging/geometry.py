"""Resize geometry: from the upright source size and the options to the steps libvips runs.

Pure arithmetic so it can be tested without libvips. Semantics follow sharp's fit modes, which
the original service's clients know.
"""

from __future__ import annotations

import msgspec

from .options import ConvertOptions

__all__ = ["LIBVIPS_SHRINK_HEADROOM", "Geometry", "fit_geometry", "jpeg_shrink", "upright_size"]


class Geometry(msgspec.Struct, frozen=True):
    """thumbnail() to (width, height) with `size` and `crop`, then pad to (canvas_w, canvas_h)."""

    width: int
    height: int
    size: str  # libvips VipsSize: "both" keeps the aspect within the box, "force" stretches
    crop: bool  # cover: scale to cover the box, then crop its centre
    canvas_width: int
    canvas_height: int

    @property
    def output_pixels(self) -> int:
        return self.canvas_width * self.canvas_height


def _scaled(length: int, scale: float) -> int:
    return max(1, round(length * scale))


def fit_geometry(src_w: int, src_h: int, opts: ConvertOptions) -> Geometry:
    """Plan the output geometry for a source already rotated upright (EXIF applied)."""
    w, h = opts.width, opts.height

    def clamp(scale: float) -> float:
        return scale if opts.enlarge else min(scale, 1.0)

    if w is None and h is None:
        return Geometry(src_w, src_h, "both", False, src_w, src_h)
    if w is None or h is None:
        scale = clamp(w / src_w if w is not None else (h or src_h) / src_h)
        out_w, out_h = _scaled(src_w, scale), _scaled(src_h, scale)
        return Geometry(out_w, out_h, "force", False, out_w, out_h)

    sx, sy = w / src_w, h / src_h
    if opts.fit == "fill":
        out_w, out_h = _scaled(src_w, clamp(sx)), _scaled(src_h, clamp(sy))
        return Geometry(out_w, out_h, "force", False, out_w, out_h)
    if opts.fit in ("inside", "contain"):
        scale = clamp(min(sx, sy))
        out_w, out_h = _scaled(src_w, scale), _scaled(src_h, scale)
        if opts.fit == "contain":
            return Geometry(out_w, out_h, "force", False, max(w, out_w), max(h, out_h))
        return Geometry(out_w, out_h, "force", False, out_w, out_h)
    scale = clamp(max(sx, sy))
    cover_w, cover_h = _scaled(src_w, scale), _scaled(src_h, scale)
    if opts.fit == "outside":
        return Geometry(cover_w, cover_h, "force", False, cover_w, cover_h)
    # cover: crop the centre of the covering image to the box, never beyond what we have
    out_w, out_h = min(w, cover_w), min(h, cover_h)
    return Geometry(out_w, out_h, "both", True, out_w, out_h)


# libvips' thumbnail leaves a factor of two of resize after shrinking a JPEG on load
# (vips_thumbnail_find_jpegshrink); the pipeline's fast path leaves less (FAST_SHRINK_HEADROOM).
LIBVIPS_SHRINK_HEADROOM = 2.0


def jpeg_shrink(scale: float, headroom: float = LIBVIPS_SHRINK_HEADROOM) -> int:
    """The largest JPEG DCT scale (1/8, 1/4, 1/2) that still leaves `headroom` of resize to an
    output `scale` times the source's size (1.0 = the source's size): the shrink-on-load rule."""
    for shrink in (8, 4, 2):
        if shrink * scale * headroom <= 1.0:
            return shrink
    return 1


def upright_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """EXIF orientations 5-8 swap width and height once applied."""
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
