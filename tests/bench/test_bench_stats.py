"""The bench's own arithmetic: percentiles, spreads, paired ratios, the matrix, hey's CSV."""

from __future__ import annotations

import pytest

from bench.load import parse_hey_csv
from bench.matrix import FULL, QUICK, Cell, cells
from bench.run import window
from bench.stats import paired_ratios, percentile, ratio, spread


def test_percentile_interpolates_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15 and percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile(values, 40)
    assert percentile(values, 99) == pytest.approx(49.6)
    assert percentile([7], 95) == 7
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_spread_and_ratios():
    s = spread([3.0, 1.0, 2.0])
    assert (s.median, s.low, s.high, s.n) == (2.0, 1.0, 3.0, 3)
    assert s.relative == pytest.approx(1.0)
    assert ratio(3, 0) is None and ratio(3, 2) == 1.5


def test_paired_ratios_cancel_noise_that_hits_both_sides():
    # The machine halves in speed in repeat 2: both sides drop, the paired ratio does not move.
    service, ceiling = [90.0, 45.0, 90.0], [100.0, 50.0, 100.0]
    r = paired_ratios(service, ceiling)
    assert r is not None and r.median == pytest.approx(0.9) and r.low == pytest.approx(0.9)
    assert paired_ratios([1.0], [0.0]) is None


def test_matrix_full_has_every_format_quality_width_with_lossless_collapsed():
    full = cells(FULL)
    lossy = [c for c in full if c.format in ("jpeg", "webp", "avif")]
    assert len(lossy) == 3 * 3 * 3
    assert {c.quality for c in lossy} == {50, 75, 90} and {c.width for c in full} == {320, 800, 1600}
    lossless = [c for c in full if c.format in ("png", "tiff")]
    assert len(lossless) == 2 * 3 and all(c.quality is None for c in lossless)
    assert len({c.key for c in full}) == len(full) == 33
    assert Cell("png", None, 320).params() == {"format": "png", "width": "320"}  # no quality: no palette
    assert Cell("jpeg", 75, 800).params() == {"format": "jpeg", "width": "800", "quality": "75"}
    assert len(cells(QUICK)) == 6


def test_window_grows_for_slow_cells_within_bounds():
    assert window(FULL, 0.01, 2) == FULL.seconds
    assert window(FULL, 2.0, 2) == 12.0
    assert window(FULL, 60.0, 2) == FULL.max_seconds


def test_hey_csv_counts_only_requests_finished_in_the_window():
    text = ("response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"
            "0.100,0,0,0,0,0,200,0.0\n0.200,0,0,0,0,0,200,0.1\n0.050,0,0,0,0,0,503,0.5\n"
            "0.300,0,0,0,0,0,200,0.9\n")  # the last one ends at 1.2 s: outside a 1 s window
    r = parse_hey_csv(text, 1.0, 0.25)
    assert (r.ok, r.errors, r.images_per_second) == (2, 1, 2.0)
    assert r.p50_ms == pytest.approx(150.0) and r.generator_cpu_seconds == 0.25


def test_py_spy_collapsed_stacks_are_summarized():
    from bench.profile import summarize_raw

    raw = ("main (service/__main__.py:1);run (uvicorn/server.py:2);select (selectors.py:3) 6\n"
           "main (service/__main__.py:1);handle (service/api/convert.py:9) 4\n")
    own, ours = summarize_raw(raw)
    assert own[0].frame.startswith("select") and own[0].share == 0.6
    assert {f.frame.split(" ")[0] for f in ours} == {"main", "run", "handle"}
    assert next(f for f in ours if f.frame.startswith("main")).share == 1.0
