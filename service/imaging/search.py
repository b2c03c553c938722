"""Encoding to a target: the highest quality that fits `max_bytes`, or the smallest output whose
quality score reaches `min_score`, found by a guarded interpolation search over the quality.

    encode_for(image, fmt, options) -> Outcome(data, quality, score, attempts)

Used by every path that encodes (convert, batch items, job items): without a target it is one
encode (plus the score when `score=true`). With one, each attempt is a real encode of the same
pixels, so the answer is a file we actually produced, never an estimate.

The search assumes bytes and score rise with quality. They do overall, but not strictly: WebP and
palette PNG sizes dip by a few percent here and there, and the score of any format can dip between
neighbouring qualities. So the answer is the quality q where q fits and q + 1 does not (max_bytes)
or q reaches the score and q - 1 does not (min_score): the exhaustive answer wherever the curve is
monotone, and next to it where it is not (see BENCHMARKS.md for how often and by how much).

Where it searches: max_bytes from the quality asked (else the format's default, as imgproxy's
max_bytes: a budget lowers the quality, it never raises it past what you would get without one)
down to 1; min_score from 1 up to the quality asked, else 100.

Cost: one encode when the ceiling already fits. Otherwise each step interpolates on log(bytes) (or
on the score) between the two bracketing attempts, clamped to the middle half of the bracket so a
step never removes less than a quarter of it; pinning the exact boundary (q fits, q + 1 does not)
took 6.2-6.8 encodes on average and 10 at most over 1..100 (`python -m bench.studies.defaults search`,
5 formats x 2 images x 2 widths x 7 budgets and 7 scores; plain bisection needs 8). Each attempt
is counted in imageconv_target_search_encodes_total.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec
import pyvips

from ..errors import MAX_BYTES_UNREACHABLE, MIN_SCORE_UNREACHABLE
from . import encoders
from .errors import Allowed, OptionError, TargetUnreachable
from .formats import OutputFormat
from .options import ConvertOptions
from .quality import score_encoded

__all__ = ["MAX_QUALITY", "MIN_QUALITY", "Outcome", "encode_for"]

MIN_QUALITY = 1
MAX_QUALITY = 100


class Outcome(msgspec.Struct, frozen=True):
    data: bytes
    quality: int | None  # the encoder quality used; None when the format has none (lossless PNG, LZW TIFF)
    score: float | None  # filled when asked for (score=true) or searched for (min_score)
    attempts: int  # encodes made: 1 without a target


class _Attempt(msgspec.Struct, frozen=True):
    quality: int
    data: bytes
    score: float | None


def encode_for(
    image: pyvips.Image, fmt: OutputFormat, options: ConvertOptions, reference: pyvips.Image | None = None
) -> Outcome:
    """Encode `image` as asked, honouring score/max_bytes/min_score. `reference` is what the score
    compares against (the high-quality decode at this size); by default the encoder's input."""
    searching = options.max_bytes is not None or options.min_score is not None
    if searching or options.score:
        image = image.copy_memory()  # read more than once: never re-run the decode behind it
    reference = image if reference is None else reference
    if not searching:
        data = encoders.encode(image, fmt, options)
        value = score_encoded(data, reference) if options.score else None
        return Outcome(data, encoders.effective_quality(fmt, options), value, 1)

    _check_searchable(fmt, options)
    search = _Search(image, reference, fmt, options)
    if options.min_score is not None:
        found = search.lowest_reaching(options.min_score, options.quality or MAX_QUALITY)
        if options.max_bytes is not None and len(found.data) > options.max_bytes:
            raise TargetUnreachable(
                MAX_BYTES_UNREACHABLE,
                f"The smallest output reaching min_score={options.min_score:g} (quality {found.quality}) is "
                f"{len(found.data)} bytes, over max_bytes={options.max_bytes}",
                "max_bytes",
                search.attempts,
                fmt.value,
            )
    else:
        assert options.max_bytes is not None
        ceiling = options.quality or encoders.effective_quality(fmt, options) or MAX_QUALITY
        found = search.highest_fitting(options.max_bytes, ceiling)
    value = found.score
    if value is None and options.score:
        value = score_encoded(found.data, reference)
    return Outcome(found.data, found.quality, value, search.attempts)


def _check_searchable(fmt: OutputFormat, options: ConvertOptions) -> None:
    """A target needs a quality that changes the output: refuse the combinations where it cannot."""
    field = "max_bytes" if options.max_bytes is not None else "min_score"
    received = options.max_bytes if options.max_bytes is not None else options.min_score
    if options.lossless:
        raise OptionError(
            field,
            f"a lossy encoding ({field} searches the quality; lossless has none)",
            received,
            Allowed("requires", option="lossless", choices=(False,)),
        )
    if fmt is OutputFormat.PNG and options.palette is False:
        raise OptionError(
            field,
            f"palette PNG ({field} searches the palette quality)",
            received,
            Allowed("requires", option="palette", choices=(True,)),
        )
    if fmt is OutputFormat.TIFF and options.compression != "jpeg":
        raise OptionError(
            field,
            f"TIFF with compression=jpeg ({field} searches the JPEG quality)",
            received,
            Allowed("requires", option="compression", choices=("jpeg",)),
        )


class _Search:
    def __init__(self, image: pyvips.Image, reference: pyvips.Image, fmt: OutputFormat, options: ConvertOptions):
        self.image, self.reference, self.fmt, self.options = image, reference, fmt, options
        self.attempts = 0

    def _encode(self, quality: int, scored: bool) -> _Attempt:
        self.attempts += 1
        options = msgspec.structs.replace(self.options, quality=quality)
        data = encoders.encode(self.image, self.fmt, options)
        return _Attempt(quality, data, score_encoded(data, self.reference) if scored else None)

    def highest_fitting(self, budget: int, ceiling: int) -> _Attempt:
        top = self._encode(ceiling, False)
        if len(top.data) <= budget:
            return top
        # Bracket: `good` fits (None: nothing found yet, quality MIN_QUALITY - 1 stands in), `bad` does not.
        good: _Attempt | None = None
        bad = top
        while bad.quality - (good.quality if good else MIN_QUALITY - 1) > 1:
            lo = good.quality if good else MIN_QUALITY - 1
            if good is None:
                guess = _between(lo, bad.quality, None)
            else:
                guess = _between(
                    lo, bad.quality, _fraction(math.log(len(good.data)), math.log(len(bad.data)), math.log(budget))
                )
            attempt = self._encode(guess, False)
            if len(attempt.data) <= budget:
                good = attempt
            else:
                bad = attempt
        if good is None:
            raise TargetUnreachable(
                MAX_BYTES_UNREACHABLE,
                f"Even quality {MIN_QUALITY} gives {len(bad.data)} bytes, over max_bytes={budget}; "
                "ask for a smaller size or a more compact format",
                "max_bytes",
                self.attempts,
                self.fmt.value,
            )
        return good

    def lowest_reaching(self, target: float, ceiling: int) -> _Attempt:
        """The lowest quality whose score reaches `target`; bytes grow with quality, so this is the
        smallest output that does. Starts at the format's default quality, where most answers are."""
        scored: Callable[[int], _Attempt] = lambda q: self._encode(q, True)  # noqa: E731
        default = encoders.effective_quality(self.fmt, msgspec.structs.replace(self.options, quality=None)) or 75
        start = min(ceiling, default, 90)  # palette PNG's default is 100: no quantisation loss
        first = scored(start)
        good: _Attempt | None = first if _reaches(first, target) else None  # reaches the target
        bad: _Attempt | None = None if good else first  # falls short
        if good is None and start < ceiling:
            top = scored(ceiling)
            if _reaches(top, target):
                good = top
            else:
                bad = top
        if good is None:
            assert bad is not None
            raise TargetUnreachable(
                MIN_SCORE_UNREACHABLE,
                f"Even quality {bad.quality} scores {_score(bad):.4f}, under min_score={target:g}; "
                "ask for a larger size, a lower score or a better format",
                "min_score",
                self.attempts,
                self.fmt.value,
            )
        while good.quality - (bad.quality if bad else MIN_QUALITY - 1) > 1:
            lo = bad.quality if bad else MIN_QUALITY - 1
            fraction = None if bad is None else _fraction(_score(bad), _score(good), target)
            attempt = scored(_between(lo, good.quality, fraction))
            if _reaches(attempt, target):
                good = attempt
            else:
                bad = attempt
        return good


def _score(attempt: _Attempt) -> float:
    assert attempt.score is not None
    return attempt.score


def _reaches(attempt: _Attempt, target: float) -> bool:
    return _score(attempt) >= target


def _fraction(low: float, high: float, wanted: float) -> float | None:
    """Where `wanted` lies between `low` and `high` (0..1), None when they do not bracket it."""
    if high <= low:
        return None
    return (wanted - low) / (high - low)


def _between(lo: int, hi: int, fraction: float | None) -> int:
    """A quality strictly inside (lo, hi): interpolated when a fraction is known, kept within the
    middle half of the bracket so every step removes at least a quarter of it."""
    if hi - lo <= 1:
        raise ValueError("no quality between")
    middle = (lo + hi) // 2
    if fraction is None:
        return middle
    guess = round(lo + fraction * (hi - lo))
    quarter = (hi - lo) // 4
    return max(lo + 1, lo + quarter, min(hi - 1, hi - quarter, guess))
