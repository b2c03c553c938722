"""The suite's arithmetic: percentiles, medians with spread, ratios. Pure functions, unit tested."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import msgspec


class Spread(msgspec.Struct, frozen=True):
    median: float
    low: float
    high: float
    n: int

    @property
    def relative(self) -> float:
        """(high - low) / median: how noisy the repeats were."""
        return (self.high - self.low) / self.median if self.median else math.inf


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("spread of no values")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def ratio(numerator: float, denominator: float) -> float | None:
    """None when the denominator is missing or zero (a system that could not be measured)."""
    if not denominator:
        return None
    return numerator / denominator


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Spread | None:
    """Ratios of measurements taken side by side in the same repeat, then their median and range:
    noise that hits both sides of one repeat cancels, which comparing medians would not do."""
    values = [r for r in (ratio(a, b) for a, b in zip(numerators, denominators, strict=True)) if r is not None]
    return spread(values) if values else None
