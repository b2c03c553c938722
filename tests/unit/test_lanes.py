"""The lanes and their limits (service/pool/lanes.py)."""

from __future__ import annotations

import pytest

from service.pool import Lane, background_limit


def test_lane_names_are_the_contract() -> None:
    assert [lane.value for lane in Lane] == ["interactive", "batch", "background"]


@pytest.mark.parametrize(
    ("workers", "share", "limit"),
    [
        (1, 0.5, 1),
        (2, 0.5, 1),
        (2, 1.0, 1),
        (3, 0.5, 2),
        (4, 0.5, 2),
        (4, 1.0, 3),
        (8, 0.25, 2),
        (8, 0.01, 1),
    ],
)
def test_background_share_rounds_up_and_always_leaves_one_worker(workers: int, share: float, limit: int) -> None:
    assert background_limit(workers, share) == limit
