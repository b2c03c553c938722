"""A perceptual quality score: SSIM on luminance, from libvips operations only.

    score(output, reference) -> 0..1   (1.0: the output's luminance is the reference's)

The reference is the same input at the same size from the high-quality path (the pixels the
encoder was given, decoded by libvips' `thumbnail`); the output is the encoded file decoded again.

Why SSIM built from libvips and not a package: the score runs in the pool workers, on every output
a client asks to score and on every step of a `min_score` search, so it must be cheap and must not
copy pixels out of libvips. SSIM is five Gaussian-weighted local means (x, y, x^2, y^2, xy), which
libvips computes with one `gaussblur` of a five-band float image, streamed; the whole score is
about as costly as one JPEG encode of the same size. The packages that do more (butteraugli,
ssimulacra2, dssim) are either not on PyPI as maintained wheels, bring numpy/scipy into the
worker, or cost 10-100x a JPEG encode per call. SSIM is what imgproxy's and squoosh's size-vs-
quality tooling report too, so the numbers mean something to the people reading them.

Definition (Wang, Bovik, Sheikh, Simoncelli 2004), with their constants:
  - luminance Y = 0.299 R + 0.587 G + 0.114 B on 8-bit gamma-encoded sRGB (Rec.601 luma, as
    ffmpeg's and ImageMagick's SSIM); with alpha, both images are flattened first: onto white for
    an output without alpha (as our JPEG encoder flattens), else onto white and onto black, the
    worse score kept (what a page behind the image would show);
  - an 11x11-ish Gaussian window, sigma 1.5; C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2;
  - the score is the mean of the SSIM map, at full resolution (outputs here are web-sized, so
    the paper's down-sampling for a viewing distance is not applied); with alpha, the mean is
    weighted by the reference's opacity, so only what can be seen counts.
Not scored: errors in the alpha channel itself (only their effect over white), and colour
(chroma) errors; like every SSIM, it measures structure, so compare scores of one image only.
"""

from __future__ import annotations

import pyvips

__all__ = ["luminance", "score", "score_encoded", "ssim_map"]

_SIGMA = 1.5
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
_LUMA = [[0.299, 0.587, 0.114]]


def luminance(image: pyvips.Image, background: int = 255) -> pyvips.Image:
    """One float band of luma in 0..255, alpha flattened onto a grey level (white by default)."""
    if image.format != "uchar" or image.interpretation not in ("srgb", "b-w"):
        grey = image.interpretation in ("b-w", "grey16")
        image = image.colourspace("b-w" if grey else "srgb")
        if image.format != "uchar":
            image = image.cast("uchar")
    if image.hasalpha():
        image = image.flatten(background=[background] * (image.bands - 1))
    if image.bands >= 3:
        return image.extract_band(0, n=3).recomb(pyvips.Image.new_from_array(_LUMA))
    return image.extract_band(0).cast("float")


def ssim_map(output: pyvips.Image, reference: pyvips.Image, background: int = 255) -> pyvips.Image:
    """The per-pixel SSIM of two images of one size on luma (float, 1.0 where they agree)."""
    x, y = luminance(output, background), luminance(reference, background)
    # One blur of five bands: the local means of x, y, x^2, y^2 and xy in a single pass.
    stats = x.bandjoin([y, x * x, y * y, x * y]).gaussblur(_SIGMA, precision="float")
    mx, my, mxx, myy, mxy = (stats[i] for i in range(5))
    mx_my = mx * my
    mx2, my2 = mx * mx, my * my
    var_x, var_y, cov = mxx - mx2, myy - my2, mxy - mx_my
    num = (mx_my * 2 + _C1) * (cov * 2 + _C2)
    den = (mx2 + my2 + _C1) * (var_x + var_y + _C2)
    return num / den


def score(output: pyvips.Image, reference: pyvips.Image) -> float:
    """SSIM on luminance of `output` against `reference`, 0..1 (1.0 identical)."""
    if (output.width, output.height) != (reference.width, reference.height):
        raise ValueError(
            f"score compares images of one size; got {output.width}x{output.height} "
            f"against {reference.width}x{reference.height}"
        )
    if not reference.hasalpha():
        return _clamp(float(ssim_map(output, reference).avg()))
    # Weighted by the reference's opacity: what is invisible there cannot look worse, and an
    # image that is mostly transparent would otherwise score ~1.0 at any quality.
    weight = reference.extract_band(reference.bands - 1).cast("float")
    total = float(weight.avg())
    if total <= 0:
        return 1.0
    # An output without alpha was flattened onto white by the encoder: score what it shows. One
    # with alpha will be shown on some page: score it over white and over black, keep the worse
    # (white shapes on a transparent background are invisible over white alone).
    backgrounds = (255, 0) if output.hasalpha() else (255,)
    return _clamp(min(float((ssim_map(output, reference, bg) * weight).avg()) / total for bg in backgrounds))


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def score_encoded(data: bytes, reference: pyvips.Image) -> float:
    """Decode an encoded output again and score it against the reference it was encoded from."""
    return score(pyvips.Image.new_from_buffer(data, ""), reference)
