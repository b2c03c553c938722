"""Scores every system's output the same way: the service's `quality.score` (SSIM on luminance)
against one neutral reference per input and output size.

The reference is the bench's, not any system's: the input decoded in full (no shrink-on-load),
premultiplied, resized with an exact Lanczos-3 (libvips `resize`, `gap=0`: no box pre-shrink) to
the output's own width and height, in sRGB. So a system whose fast decode loses detail scores
lower, and none is compared against its own pixels.

Alpha input to an output without alpha: each system flattens onto its own background (ours white,
sharp black, Pillow drops the channel); that is a presentation choice, not a quality one, so the
better of white and black is kept.
"""

from __future__ import annotations

import functools

import pyvips

from service.imaging import quality

from . import corpus


@functools.lru_cache(maxsize=64)
def reference(image_key: str, width: int, height: int) -> pyvips.Image:
    source = pyvips.Image.new_from_file(str(corpus.path(image_key)))
    source = source.autorot()
    if source.interpretation not in ("srgb", "b-w") or source.get_typeof("icc-profile-data"):
        source = source.icc_transform("srgb") if source.get_typeof("icc-profile-data") else source.colourspace("srgb")
    alpha = source.hasalpha()
    if alpha:
        source = source.premultiply()
    scaled = source.resize(width / source.width, vscale=height / source.height, kernel="lanczos3", gap=0.0)
    if alpha:
        scaled = scaled.unpremultiply()
    # Materialise once: every score against it reuses the pixels.
    return scaled.cast("uchar").copy_memory()


def score(output: pyvips.Image, ref: pyvips.Image) -> float:
    """`quality.score`, with the flattening background chosen in the output's favour (see above)."""
    best = quality.score(output, ref)
    if ref.hasalpha() and not output.hasalpha():
        weight = ref.extract_band(ref.bands - 1).cast("float")
        total = float(weight.avg())
        if total > 0:
            black = float((quality.ssim_map(output, ref, 0) * weight).avg()) / total
            best = max(best, min(1.0, black))
    return best


def score_bytes(data: bytes, image_key: str) -> tuple[float, int, int]:
    """(score, width, height) of an encoded output of `image_key`."""
    output = pyvips.Image.new_from_buffer(data, "")
    if output.get_typeof("orientation") and output.get("orientation") != 1:
        output = output.autorot()
    return score(output, reference(image_key, output.width, output.height)), output.width, output.height
