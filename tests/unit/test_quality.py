"""The quality score on real libvips: it must rise with quality for every lossy format we encode."""

from __future__ import annotations

import itertools
from pathlib import Path

import msgspec
import pytest
import pyvips

from service.imaging.encoders import encode
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.pipeline import decode
from service.imaging.quality import score, score_encoded
from service.settings import Settings

CORPUS = Path(__file__).parents[2] / "tests" / "fixtures"  # two corpus photos and their COPYRIGHT
PHOTOS = sorted(CORPUS.glob("*.jpg"))

# (format, extra options): every way a quality setting reaches a lossy encoder.
LOSSY = [
    (OutputFormat.JPEG, {}),
    (OutputFormat.WEBP, {}),
    (OutputFormat.AVIF, {"effort": 2}),
    (OutputFormat.PNG, {"palette": True}),
    (OutputFormat.TIFF, {"compression": "jpeg"}),
]


def _alpha_photo() -> bytes:
    """A photograph with a transparent left half, so flattening is part of what is scored."""
    image = pyvips.Image.thumbnail_buffer(PHOTOS[0].read_bytes(), 480)
    alpha = (pyvips.Image.xyz(image.width, image.height)[0] > image.width // 2).ifthenelse(255, 0).cast("uchar")
    return bytes(image.bandjoin(alpha).pngsave_buffer())


def _inputs() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in PHOTOS] + [("alpha.png", _alpha_photo())]


def _reference(data: bytes, width: int) -> pyvips.Image:
    return decode(data, ConvertOptions(width=width), Settings().limits).image


def _scores(data: bytes, fmt: OutputFormat, extra: dict[str, object], qualities: list[int]) -> list[float]:
    reference = _reference(data, 320)
    base = msgspec.convert({"width": 320, "format": fmt.value, **extra}, ConvertOptions)
    return [
        score_encoded(encode(reference, fmt, msgspec.structs.replace(base, quality=q)), reference) for q in qualities
    ]


@pytest.mark.parametrize(("fmt", "extra"), LOSSY, ids=[f.value for f, _ in LOSSY])
def test_score_rises_with_quality_for_every_format(fmt: OutputFormat, extra: dict[str, object]) -> None:
    assert len(PHOTOS) >= 2, f"the test corpus is missing from {CORPUS}"
    for name, data in _inputs():
        scores = _scores(data, fmt, extra, [10, 40, 75, 95])
        pairs = list(itertools.pairwise(scores))
        if fmt is OutputFormat.PNG:
            # A palette holds 256 colours at most: past the quality libimagequant reaches with
            # them, a higher setting gives the same file, so the score may stop rising, never fall.
            assert all(a <= b for a, b in pairs) and scores[0] < scores[1], (name, fmt.value, scores)
        else:
            assert all(a < b for a, b in pairs), (name, fmt.value, scores)
        assert scores[0] > 0.3 and scores[-1] > 0.95, (name, fmt.value, scores)


def test_identical_images_score_one_and_unrelated_ones_low() -> None:
    reference = _reference(PHOTOS[0].read_bytes(), 320)
    assert score(reference, reference) == pytest.approx(1.0)
    other = pyvips.Image.thumbnail_buffer(
        PHOTOS[1].read_bytes(), reference.width, height=reference.height, size="force"
    )
    assert score(other, reference) < 0.6


def test_alpha_is_scored_as_flattened_onto_white() -> None:
    """A lossless output with alpha and its JPEG (flattened onto white) at high quality agree."""
    reference = _reference(_alpha_photo(), 320)
    assert reference.hasalpha()
    lossless = encode(reference, OutputFormat.PNG, ConvertOptions(format="png"))
    assert score_encoded(lossless, reference) == pytest.approx(1.0)
    jpeg = encode(reference, OutputFormat.JPEG, ConvertOptions(quality=95))
    assert score_encoded(jpeg, reference) > 0.97


def test_images_of_different_sizes_are_refused() -> None:
    reference = _reference(PHOTOS[0].read_bytes(), 320)
    with pytest.raises(ValueError, match="one size"):
        score(reference.resize(0.5), reference)
