"""The bench's own arithmetic: percentiles, spreads, paired ratios, the matrix, image counts, hey's
CSV, CPU accounting and the batch speed-ups."""

from __future__ import annotations

import pytest

from bench.batch import BatchRun, modes_for
from bench.load import parse_hey_csv
from bench.matrix import FULL, QUICK, Cell, cells, images_per_measurement, rotation
from bench.procs import Noise, cpu_delta
from bench.report import summarize_batch
from bench.stats import paired_ratios, percentile, ratio, spread


def test_percentile_interpolates_like_numpy():
    values = [15, 20, 35, 40, 50]
    assert percentile(values, 0) == 15 and percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    assert percentile(values, 40) == pytest.approx(29.0)  # numpy.percentile(values, 40)
    assert percentile(values, 99) == pytest.approx(49.6)
    assert percentile([7], 95) == 7
    assert percentile([3, 1, 2], 50) == 2  # unsorted input
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_spread_and_ratios():
    s = spread([3.0, 1.0, 2.0])
    assert (s.median, s.low, s.high, s.n) == (2.0, 1.0, 3.0, 3)
    assert s.relative == pytest.approx(1.0)
    assert spread([1.0, 2.0, 3.0, 10.0]).median == 2.5  # even count: mean of the middle two
    assert ratio(3, 0) is None and ratio(3, 2) == 1.5
    with pytest.raises(ValueError):
        spread([])


def test_paired_ratios_cancel_noise_that_hits_both_sides():
    # The machine halves in speed in repeat 2: both sides drop, the paired ratio does not move.
    service, ceiling = [90.0, 45.0, 90.0], [100.0, 50.0, 100.0]
    r = paired_ratios(service, ceiling)
    assert r is not None and r.median == pytest.approx(0.9) and r.low == pytest.approx(0.9)
    assert paired_ratios([1.0], [0.0]) is None
    with pytest.raises(ValueError):
        paired_ratios([1.0, 2.0], [1.0])  # a missing side is a bug, not a ratio


def test_matrix_full_has_every_format_quality_width_with_lossless_collapsed():
    full = cells(FULL)
    lossy = [c for c in full if c.format in ("jpeg", "webp", "avif")]
    assert len(lossy) == 3 * 3 * 3
    assert {c.quality for c in lossy} == {50, 75, 90} and {c.width for c in full} == {320, 800, 1600}
    lossless = [c for c in full if c.format in ("png", "tiff")]
    assert len(lossless) == 2 * 3 and all(c.quality is None for c in lossless)
    assert len({c.key for c in full}) == len(full) == 33
    assert [c.format for c in full][:9] == ["jpeg"] * 9 and full[0] == Cell("jpeg", 50, 320)
    assert Cell("png", None, 320).params() == {"format": "png", "width": "320"}  # no quality: no palette
    assert Cell("jpeg", 75, 800).params() == {"format": "jpeg", "width": "800", "quality": "75"}
    assert len(cells(QUICK)) == 6


def test_images_per_measurement_sizes_cells_evenly():
    # Fast cell: about `seconds` of work at the expected rate, a multiple of workers and clients.
    n = images_per_measurement(FULL, 100.0, 2)
    assert n % 4 == 0 and abs(n - 100 * FULL.seconds) < 4
    # Slow cell (AVIF at 1600): never fewer than min_images, still a multiple of both.
    assert images_per_measurement(FULL, 0.4, 2) == FULL.min_images
    assert images_per_measurement(FULL, 0.4, 3) == 12  # lcm(3, 4)
    assert images_per_measurement(FULL, 5.0, 2) == 20  # 17.5 images of work, rounded up to a multiple of 4


def test_rotation_changes_who_goes_first():
    systems = ["ceiling", "service", "peer"]
    assert rotation(systems, 0) == systems
    assert rotation(systems, 1) == ["service", "peer", "ceiling"]
    assert rotation(systems, 3) == systems
    assert rotation([], 2) == []


def test_hey_csv_rate_is_images_over_first_start_to_last_end():
    text = ("response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"
            "0.100,0,0,0,0,0,200,0.0\n0.200,0,0,0,0,0,200,0.1\n0.050,0,0,0,0,0,503,0.5\n"
            "0.600,0,0,0,0,0,200,0.9\n")  # the last one ends at 1.5 s
    r = parse_hey_csv(text, 0.25, sent=5)  # one request never answered: hey leaves it out of the CSV
    assert (r.requests, r.ok, r.errors) == (5, 3, 2)
    assert r.seconds == pytest.approx(1.5) and r.images_per_second == pytest.approx(2.0)
    assert r.p50_ms == pytest.approx(200.0) and r.generator_cpu_seconds == 0.25
    empty = parse_hey_csv(text.splitlines()[0] + "\n", 0.0, sent=4)
    assert (empty.ok, empty.errors, empty.images_per_second) == (0, 4, 0.0)


def test_cpu_delta_counts_processes_born_during_the_measurement():
    before = {1: 10.0, 2: 5.0}
    after = {1: 12.5, 2: 5.0, 3: 0.75}  # pid 3 (a new worker) started in between
    assert cpu_delta(before, after) == pytest.approx(3.25)


def _batch(repeat: int, mode: str, per_grid: float, concurrency: int = 1) -> BatchRun:
    return BatchRun(repeat, concurrency, mode, 10, per_grid * 10, per_grid, 0, 9, 0.1, None, Noise(0.0, 0.0))


def test_batch_speedup_is_paired_per_repeat_and_concurrency():
    batch, singles = "service: one /api/batch", "service: nine /api/convert, one after another"
    runs = [_batch(0, batch, 0.2), _batch(0, singles, 0.8), _batch(1, batch, 0.4), _batch(1, singles, 1.6),
            _batch(2, batch, 0.25), _batch(2, singles, 0.5), _batch(0, batch, 0.1, 4), _batch(0, singles, 0.3, 4)]
    lines = {(b.concurrency, b.mode): b for b in summarize_batch(runs)}
    one = lines[(1, singles)].speedup_of_batch
    assert one is not None and (one.median, one.low, one.high) == pytest.approx((4.0, 2.0, 4.0))
    assert lines[(1, batch)].speedup_of_batch is None
    assert lines[(4, singles)].speedup_of_batch.median == pytest.approx(3.0)  # type: ignore[union-attr]


def test_batch_modes_keep_three_at_a_time_to_one_client():
    assert {m.kind for m in modes_for(1, True)} == {"batch", "singles", "singles3"}
    assert {m.kind for m in modes_for(4, True)} == {"batch", "singles"}
    assert all(m.system == "service" for m in modes_for(1, False))


def test_py_spy_collapsed_stacks_are_summarized():
    from bench.profile import summarize_raw

    raw = ("main (service/__main__.py:1);run (uvicorn/server.py:2);select (selectors.py:3) 6\n"
           "main (service/__main__.py:1);handle (service/api/convert.py:9) 4\n")
    own, ours = summarize_raw(raw)
    assert own[0].frame.startswith("select") and own[0].share == 0.6
    assert {f.frame.split(" ")[0] for f in ours} == {"main", "run", "handle"}
    assert next(f for f in ours if f.frame.startswith("main")).share == 1.0


def test_ratio_without_the_generators_cpu_gives_its_cores_back():
    from bench.report import Row, without_generator

    row = Row(Cell("jpeg", 75, 320), 12, None, None, None, spread([0.8, 0.8, 0.8]), None, None, None, None, None,
              None, 1.0, 0.4, None, None, None, None, 0, 0, 0.0, 0)
    assert without_generator(row, 2) == pytest.approx(0.8 * 2 / 1.6)
    assert without_generator(row, 0) is None
