"""The lanes and their limits (service/pool/lanes.py)."""

from __future__ import annotations

import pytest

from service.pool.lanes import Lane, background_limit


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


def test_the_package_face_names_the_same_objects() -> None:
    """`from service.pool import Lane` (what the rest of the service writes) is the lanes' own Lane."""
    import service.pool

    assert service.pool.Lane is Lane and service.pool.background_limit is background_limit
