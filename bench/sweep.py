"""The bytes-vs-score curves: every system asked for the same image, format and width at a range
of qualities, each answer scored against the bench's reference. From the curves: the bytes each
system needs to reach the service's score (bytes at equal score), beside the score each reaches at
equal settings (the matrix's own cells)."""

from __future__ import annotations

from pathlib import Path

import httpx

from . import quality
from .matrix import Cell
from .results import SweepPoint
from .targets import Target


def measure(cell: Cell, targets: dict[str, Target], work: Path, client: httpx.Client) -> list[SweepPoint]:
    points = []
    for name, target in targets.items():
        try:
            data = target.request(cell, work).send(client)
        except httpx.HTTPError:  # a point missing from one curve; the others still compare
            continue
        score, _, _ = quality.score_bytes(data, cell.image)
        points.append(SweepPoint(cell, name, len(data), round(score, 5)))
    return points


def bytes_at_score(curve: list[tuple[float, int]], score: float) -> float | None:
    """Bytes a system needs for `score`, interpolated linearly in log(bytes) between the two sweep
    points around it; None when the score is outside what the sweep reached (no extrapolation).
    `curve` is (score, bytes) per quality; a non-monotonic curve is made monotonic by taking, for
    each score, the smallest bytes reaching at least that score."""
    import itertools
    import math

    points = sorted(curve)
    if not points or score < points[0][0] or score > points[-1][0]:
        return None
    # Smallest bytes that reach at least each score (the upper envelope, read from the top).
    envelope: list[tuple[float, int]] = []
    smallest = math.inf
    for s, b in reversed(points):
        smallest = min(smallest, b)
        envelope.append((s, int(smallest)))
    envelope.reverse()
    for (s0, b0), (s1, b1) in itertools.pairwise(envelope):
        if s0 <= score <= s1:
            if s1 == s0:
                return float(min(b0, b1))
            t = (score - s0) / (s1 - s0)
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return float(envelope[-1][1]) if score == envelope[-1][0] else None
