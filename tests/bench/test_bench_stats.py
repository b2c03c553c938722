"""The bench's own arithmetic: percentiles, spreads, paired ratios, the matrix, image counts, hey's
CSV, CPU accounting and the batch speed-ups."""

from __future__ import annotations

import statistics

import msgspec
import pytest

from bench.batch import modes_for
from bench.load import parse_hey_csv
from bench.matrix import FULL, QUICK, Cell, MatrixSpec, cells, load_shape, parse_key, rotation, sweep_cells
from bench.procs import Noise, cpu_delta
from bench.results import BatchRun
from bench.stats import paired_ratios, percentile, ratio, spread
from bench.summary import summarize_batch


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


def test_matrix_full_covers_every_image_format_and_width_with_lossless_unquantified():
    full = cells(FULL)
    assert {c.image for c in full} == {"4k", "1080p", "alpha"}
    assert {c.format for c in full} == {"jpeg", "png", "webp", "avif"}
    assert {c.width for c in full} == {320, 800, 1600}
    assert len(full) == len({c.key for c in full}) == 3 * 4 * 3
    assert all((c.quality is None) == (c.format == "png") for c in full)
    assert Cell("alpha", "png", None, 320).params() == {"format": "png", "width": "320"}  # no quality: no palette
    assert Cell("4k", "jpeg", 75, 800).params() == {"format": "jpeg", "width": "800", "quality": "75"}
    assert Cell("4k", "jpeg", 75, 800).key == "4k/jpeg/q75/w800"
    for c in full:
        assert parse_key(c.key) == c
    assert all(parse_key(k) in full for k in FULL.scaling_cells)
    assert len(cells(QUICK)) == 6 and all(parse_key(k) in cells(QUICK) for k in QUICK.scaling_cells)


def test_sweep_covers_every_lossy_format_at_every_quality_and_includes_the_matrix_quality():
    sweep = sweep_cells(FULL)
    assert len(sweep) == len(FULL.images) * len(FULL.sweep_formats) * len(FULL.sweep_widths) * len(FULL.sweep_qualities)
    assert FULL.quality in FULL.sweep_qualities and QUICK.quality in QUICK.sweep_qualities
    assert "png" not in {c.format for c in sweep}


def test_load_shape_sizes_cells_evenly_and_slow_cells_one_request_per_worker():
    spec = MatrixSpec(("4k",), ("jpeg",), (320,), 75, seconds=3.5, repeats=3, concurrency=4, min_images=2)
    # Fast cell: about `seconds` of work at the expected rate, a multiple of workers and clients.
    n, clients = load_shape(spec, 100.0, 2)
    assert clients == 4 and n % 4 == 0 and abs(n - 100 * spec.seconds) < 4
    assert load_shape(spec, 5.0, 2) == (20, 4)  # 17.5 images of work, rounded up to a multiple of 4
    assert load_shape(spec, 5.0, 3) == (24, 4)  # lcm(3, 4)
    # Slow cell (AVIF at 1600): fewer images in `seconds` than clients: one request per worker.
    assert load_shape(spec, 0.4, 2) == (2, 2)
    assert load_shape(spec, 0.9, 2) == (4, 2)  # 3.15 images of work
    assert load_shape(msgspec.structs.replace(spec, min_images=6), 0.4, 2) == (6, 2)


def test_rotation_changes_who_goes_first():
    systems = ["ceiling", "service", "peer"]
    assert rotation(systems, 0) == systems
    assert rotation(systems, 1) == ["service", "peer", "ceiling"]
    assert rotation(systems, 3) == systems
    assert rotation([], 2) == []


def test_hey_csv_rate_is_images_over_first_start_to_last_end():
    text = (
        "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"
        "0.100,0,0,0,0,0,200,0.0\n0.200,0,0,0,0,0,200,0.1\n0.050,0,0,0,0,0,503,0.5\n"
        "0.600,0,0,0,0,0,200,0.9\n"
    )  # the last one ends at 1.5 s
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
    runs = [
        _batch(0, batch, 0.2),
        _batch(0, singles, 0.8),
        _batch(1, batch, 0.4),
        _batch(1, singles, 1.6),
        _batch(2, batch, 0.25),
        _batch(2, singles, 0.5),
        _batch(0, batch, 0.1, 4),
        _batch(0, singles, 0.3, 4),
    ]
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
    from bench.studies.profile import summarize_raw

    raw = (
        "main (service/__main__.py:1);run (uvicorn/server.py:2);select (selectors.py:3) 6\n"
        "main (service/__main__.py:1);handle (service/api/convert.py:9) 4\n"
    )
    own, ours = summarize_raw(raw)
    assert own[0].frame.startswith("select") and own[0].share == 0.6
    assert {f.frame.split(" ")[0] for f in ours} == {"main", "run", "handle"}
    assert next(f for f in ours if f.frame.startswith("main")).share == 1.0


def test_bytes_at_score_interpolates_in_log_bytes_and_never_extrapolates():
    from bench.sweep import bytes_at_score

    curve = [(0.90, 1000), (0.95, 4000)]  # (score, bytes)
    assert bytes_at_score(curve, 0.90) == pytest.approx(1000)
    assert bytes_at_score(curve, 0.925) == pytest.approx(2000)  # halfway in log: the geometric mean
    assert bytes_at_score(curve, 0.95) == pytest.approx(4000)
    assert bytes_at_score(curve, 0.89) is None and bytes_at_score(curve, 0.96) is None
    # A quality step that scores lower than the one below it: the cheaper point reaching a score wins.
    wobbly = [(0.90, 1000), (0.93, 3000), (0.92, 2000), (0.95, 4000)]
    assert bytes_at_score(wobbly, 0.92) == pytest.approx(2000)
    assert bytes_at_score([], 0.9) is None


def test_equal_settings_outcome_separates_a_higher_score_from_a_miss():
    from bench.verdicts import settings_outcome

    assert settings_outcome(1040, 0.90, 1000, 0.90) == "meets"  # 4% larger, same score
    assert settings_outcome(1100, 0.90, 1000, 0.90) == "misses"  # 10% larger, same score
    assert settings_outcome(900, 0.85, 1000, 0.90) == "misses"  # smaller but worse
    assert settings_outcome(1100, 0.95, 1000, 0.90) == "higher"  # larger and better: judged at equal score


def _equal(service_score: float, peer_curve: list[tuple[int, int, float]]):
    from bench.summary import EqualQuality

    service = [(50, 800, 0.88), (75, 1000, service_score), (90, 2000, 0.97)]
    return EqualQuality(
        "4k", "jpeg", 800, 75, service_score, {}, {"service": 1000}, {}, {"service": service, "original": peer_curve}
    )


def test_equal_score_outcome_reads_the_peer_curve_at_our_score():
    from bench.summary import EqualQuality
    from bench.sweep import bytes_at_score
    from bench.verdicts import equal_score_outcome

    def with_needed(e: EqualQuality) -> EqualQuality:
        curve = [(s, b) for _, b, s in e.curves["original"]]
        return EqualQuality(
            e.image,
            e.format,
            e.width,
            e.quality,
            e.service_score,
            e.score_at_quality,
            e.bytes_at_quality,
            {"original": bytes_at_score(curve, e.service_score)},
            e.curves,
        )

    met, why = equal_score_outcome(with_needed(_equal(0.92, [(50, 900, 0.90), (90, 1100, 0.94)])), "original")
    assert met and why == "1.01x"  # the peer needs sqrt(900 * 1100) ~ 995 bytes: within 5%
    met, why = equal_score_outcome(with_needed(_equal(0.92, [(50, 700, 0.90), (90, 800, 0.94)])), "original")
    assert not met and why.startswith("1.3")  # it needs ~748 bytes for our score
    met, why = equal_score_outcome(with_needed(_equal(0.99, [(50, 700, 0.40), (90, 800, 0.45)])), "original")
    assert met and "stays below ours" in why  # alpha flattened away: it never reaches our score
    met, why = equal_score_outcome(with_needed(_equal(0.50, [(50, 700, 0.90), (90, 800, 0.95)])), "original")
    assert not met and "below its lowest" in why


def test_scaling_ratio_is_paired_per_repeat():
    from bench.results import ScalingRun
    from bench.summary import summarize_scaling

    cell = Cell("4k", "jpeg", 75, 320)
    runs = [
        ScalingRun(cell, "service", cores, repeat, 8, ips, 0, Noise(0.0, 0.0))
        for repeat, (one, two) in enumerate([(10.0, 19.0), (5.0, 9.0), (10.0, 18.0)])
        for cores, ips in ((1, one), (2, two))
    ]
    (line,) = summarize_scaling(runs)
    assert line.ratio is not None and line.ratio.median == pytest.approx(1.8)
    assert line.one_core.median == 10.0 and line.two_cores.median == 18.0


def test_hey_command_sends_a_body_only_when_there_is_one_and_pins_with_taskset():
    from pathlib import Path

    from bench.load import hey_command
    from bench.targets import Request

    get = hey_command(Request("http://127.0.0.1:1/unsafe/320x0/a.jpg"), 8, 4)
    assert "-D" not in get and get[get.index("-m") + 1] == "GET" and get[-1].endswith("a.jpg")
    post = hey_command(Request("http://127.0.0.1:1/api/convert", "POST", Path("/tmp/b"), "image/png"), 8, 4, cpus="0")
    assert post[:3] == ["taskset", "-c", "0"] and post[post.index("-T") + 1] == "image/png"
    assert post[post.index("-n") + 1] == "8" and post[post.index("-c", 3) + 1] == "4"


def test_interleaved_cpu_takes_turns_and_charges_each_request_to_its_own_system():
    """Two fake systems behind one mock transport: requests to "busy" burn CPU in this process
    (its "process tree"), requests to "idle" do not; each is charged to its own system."""
    import os
    import time

    import httpx

    from bench.interleave import measure
    from bench.targets import Request, Target

    order: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        order.append(request.url.host)
        if request.url.host == "busy":
            end = time.process_time() + 0.08  # CPU time, not wall time: a loaded machine only slows it
            while time.process_time() < end:
                pass
        return httpx.Response(200, content=b"x")

    class Me(Target):
        def pids(self) -> list[int]:
            return [os.getpid()]

    systems = {name: (Me(f"http://{name}"), Request(f"http://{name}/")) for name in ("busy", "idle")}
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = measure(Cell("4k", "jpeg", 75, 320), systems, 4, 60.0, [], client)
        spent = measure(Cell("4k", "jpeg", 75, 320), systems, 10, 0.0, [], client)
    assert spent.rounds == 3  # the budget is spent at once: three rounds still, for a median
    del order[8:]
    assert result.rounds == 4 and order == ["busy", "idle", "idle", "busy"] * 2
    assert statistics.fmean(result.cpu_ms["busy"]) >= 50  # 80 ms burnt, /proc counts 10 ms ticks
    assert statistics.fmean(result.cpu_ms["idle"]) < 20
