"""The max_bytes / min_score search (service/imaging/search.py) on a real small photograph and real
libvips encodes: each answer is checked against encodes of its neighbours made here, every encode
the search makes is counted, and an unreachable target is refused with the count."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import pyvips

from service.imaging import encoders
from service.imaging.errors import OptionError, TargetUnreachable
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.parsing import parse_options
from service.imaging.quality import score_encoded
from service.imaging.search import encode_for

PHOTO = Path(__file__).parents[1] / "fixtures" / "Storm.jpg"


@pytest.fixture(scope="module")
def image() -> pyvips.Image:
    return pyvips.Image.thumbnail_buffer(PHOTO.read_bytes(), 160).copy_memory()


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The quality of every encode the search makes (the encodes are real)."""
    made: list[int] = []
    real = encoders.encode

    def counting(image: pyvips.Image, fmt: OutputFormat, options: ConvertOptions) -> bytes:
        made.append(options.quality or 0)
        return real(image, fmt, options)

    monkeypatch.setattr(encoders, "encode", counting)
    return made


def size_at(image: pyvips.Image, quality: int, fmt: OutputFormat = OutputFormat.JPEG) -> int:
    return len(encoders.encode(image, fmt, parse_options({"format": fmt.value, "quality": str(quality)})))


def score_at(image: pyvips.Image, quality: int) -> float:
    return score_encoded(encoders.encode(image, OutputFormat.JPEG, parse_options({"quality": str(quality)})), image)


def test_without_a_target_it_is_one_encode(image: pyvips.Image, encodes: list[int]) -> None:
    plain = encode_for(image, OutputFormat.JPEG, parse_options({"quality": "60"}))
    assert (plain.quality, plain.score, plain.attempts, encodes) == (60, None, 1, [60])
    assert plain.data == encoders.encode(image, OutputFormat.JPEG, parse_options({"quality": "60"}))
    scored = encode_for(image, OutputFormat.JPEG, parse_options({"quality": "60", "score": "true"}))
    assert scored.score == pytest.approx(score_encoded(scored.data, image)) and scored.attempts == 1


def test_a_budget_the_ceiling_already_fits_costs_one_encode(image: pyvips.Image, encodes: list[int]) -> None:
    out = encode_for(image, OutputFormat.JPEG, parse_options({"quality": "70", "max_bytes": "10000000"}))
    assert (out.quality, out.attempts, encodes) == (70, 1, [70])


@pytest.mark.parametrize("at", [12, 35, 61])
def test_max_bytes_answer_fits_and_one_quality_more_does_not(image: pyvips.Image, encodes: list[int], at: int) -> None:
    budget = (size_at(image, at) + size_at(image, at + 1)) // 2
    encodes.clear()
    out = encode_for(image, OutputFormat.JPEG, parse_options({"quality": "90", "max_bytes": str(budget)}))
    made = list(encodes)  # the checks below encode too
    assert out.quality is not None and len(out.data) <= budget
    assert len(out.data) == size_at(image, out.quality)  # the file is a real encode at that quality
    assert size_at(image, out.quality + 1) > budget
    sizes = [size_at(image, q) for q in range(1, 91)]
    if sizes == sorted(sizes):  # monotone here: the search found the exhaustive answer
        assert out.quality == max(q for q, size in zip(range(1, 91), sizes, strict=True) if size <= budget)
    assert out.attempts == len(made) and 2 <= out.attempts <= 10
    assert made[0] == 90  # from the quality asked, downwards


def test_min_score_answer_reaches_and_one_quality_less_does_not(image: pyvips.Image, encodes: list[int]) -> None:
    target = (score_at(image, 40) + score_at(image, 41)) / 2
    encodes.clear()
    out = encode_for(image, OutputFormat.JPEG, parse_options({"min_score": f"{target:.6f}"}))
    made = list(encodes)  # the checks below encode too
    assert out.quality is not None and out.score is not None
    assert out.score >= round(target, 6) and out.score == pytest.approx(score_at(image, out.quality))
    assert score_at(image, out.quality - 1) < round(target, 6)
    scores = [score_at(image, q) for q in range(1, 101)]
    if scores == sorted(scores):
        assert out.quality == 41
    assert out.attempts == len(made) and 2 <= out.attempts <= 10
    assert made[0] == 80  # JPEG's default quality: where most answers are


def test_an_unreachable_budget_is_refused_with_the_encodes_it_took(image: pyvips.Image, encodes: list[int]) -> None:
    with pytest.raises(TargetUnreachable) as err:
        encode_for(image, OutputFormat.JPEG, parse_options({"max_bytes": "200"}))
    assert err.value.attempts == len(encodes) and err.value.attempts >= 2
    assert min(encodes) == 1 and err.value.output_format == "jpeg"  # it went all the way down


def test_an_unreachable_score_is_refused_with_the_encodes_it_took(image: pyvips.Image, encodes: list[int]) -> None:
    ceiling = 30
    target = (score_at(image, ceiling) + 1.0) / 2  # above what quality 30 reaches
    encodes.clear()
    with pytest.raises(TargetUnreachable) as err:
        encode_for(image, OutputFormat.JPEG, parse_options({"quality": str(ceiling), "min_score": f"{target:.6f}"}))
    assert err.value.attempts == len(encodes) == 1 and encodes == [ceiling]  # the start is the ceiling


def test_min_score_then_max_bytes_both_hold_or_the_size_is_refused(image: pyvips.Image) -> None:
    target = score_at(image, 50)
    reached = encode_for(image, OutputFormat.JPEG, parse_options({"min_score": f"{target - 0.001:.6f}"}))
    ok = parse_options({"min_score": f"{target - 0.001:.6f}", "max_bytes": str(len(reached.data))})
    assert encode_for(image, OutputFormat.JPEG, ok).data == reached.data
    with pytest.raises(TargetUnreachable) as err:
        encode_for(image, OutputFormat.JPEG, msgspec.structs.replace(ok, max_bytes=len(reached.data) - 1))
    assert err.value.field == "max_bytes"


@pytest.mark.parametrize(
    "params",
    [
        {"format": "webp", "lossless": "true", "max_bytes": "5000"},
        {"format": "png", "palette": "false", "min_score": "0.9"},
        {"format": "tiff", "compression": "lzw", "max_bytes": "5000"},
    ],
)
def test_a_target_needs_a_quality_that_changes_the_output(
    image: pyvips.Image, encodes: list[int], params: dict[str, str]
) -> None:
    options = parse_options(params)
    with pytest.raises(OptionError) as err:
        encode_for(image, OutputFormat(params["format"]), options)
    assert err.value.field in ("max_bytes", "min_score") and encodes == []
