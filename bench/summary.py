"""From a run's raw results to one row per cell, one line per equal-quality series and per scaling
cell: medians over repeats, ratios paired within a repeat, interleaved CPU means. Pure arithmetic."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

import msgspec

from .matrix import Cell
from .results import BatchRun, CellRun, CpuRound, Measure, Output, Results, ScalingRun, SweepPoint
from .stats import Spread, paired_ratios, spread
from .sweep import bytes_at_score


class SystemCell(msgspec.Struct, frozen=True):
    """One system on one cell."""

    images_per_second: Spread | None
    p50_ms: float | None
    p99_ms: float | None
    cpu_ms: float | None  # interleaved, mean over the rounds
    cpu_ms_median: float | None
    load_cpu_ms: float | None  # the process tree's CPU per image during the throughput runs
    server_cpu_ms: float | None  # the HTTP process alone, where there is one
    images_measured: int  # by the throughput runs, over all repeats (the CPU figures' resolution)
    bytes: int | None
    score: float | None
    errors: int


class Row(msgspec.Struct, frozen=True):
    cell: Cell
    images: int
    concurrency: int
    systems: dict[str, SystemCell]
    to_ceiling: Spread | None  # service img/s over the ceiling's, paired per repeat
    to_peer: dict[str, Spread]  # service img/s over each peer's, paired per repeat
    generator_cores: float | None  # hey's CPU while it drove the service, in cores
    foreign_cores_max: float
    noisy_attempts: int
    cpu_rounds: int
    cpu_foreign_cores: float | None


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present and len(present) == len(values) else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _pooled(measures: list[Measure], get: Callable[[Measure], float | None]) -> float | None:
    """Per-image CPU over all repeats together (total CPU / total images): /proc counts 10 ms ticks,
    so a repeat of a few images alone reads 0 or a whole tick per image."""
    values = [(get(m), m.ok) for m in measures]
    if not values or any(v is None for v, _ in values):
        return None
    images = sum(ok for _, ok in values)
    return sum((v or 0.0) * ok for v, ok in values) / images if images else None


def _system_cell(name: str, runs: list[CellRun], cpu: CpuRound | None, output: Output | None) -> SystemCell:
    measures = [r.systems[name] for r in runs if name in r.systems]

    def med(get: Callable[[Measure], float | None]) -> float | None:
        return _median([get(m) for m in measures]) if measures else None

    samples = cpu.cpu_ms.get(name) if cpu else None
    return SystemCell(
        images_per_second=spread([m.images_per_second for m in measures]) if measures else None,
        p50_ms=med(lambda m: m.p50_ms),
        p99_ms=med(lambda m: m.p99_ms),
        cpu_ms=statistics.fmean(samples) if samples else None,
        cpu_ms_median=statistics.median(samples) if samples else None,
        load_cpu_ms=_ms(_pooled(measures, lambda m: m.cpu_seconds_per_image)),
        server_cpu_ms=_ms(_pooled(measures, lambda m: m.server_cpu_seconds_per_image)),
        images_measured=sum(m.ok for m in measures),
        bytes=output.bytes if output else None,
        score=output.score if output else None,
        errors=sum(m.errors for m in measures),
    )


def _paired(runs: list[CellRun], a: str, b: str) -> Spread | None:
    pairs = [
        (r.systems[a].images_per_second, r.systems[b].images_per_second)
        for r in runs
        if a in r.systems and b in r.systems
    ]
    return paired_ratios([x for x, _ in pairs], [y for _, y in pairs]) if pairs else None


def summarize(results: Results) -> list[Row]:
    by_cell: dict[str, list[CellRun]] = {}
    for run in results.cells:
        by_cell.setdefault(run.cell.key, []).append(run)
    cpu = {c.cell.key: c for c in results.cpu}
    outputs = {(o.cell.key, o.system): o for o in results.outputs}
    rows = []
    for key, runs in by_cell.items():
        systems = {n: _system_cell(n, runs, cpu.get(key), outputs.get((key, n))) for n in results.systems}
        svc = [r.systems["service"] for r in runs if "service" in r.systems]
        generator = (
            _median([m.generator_cpu_seconds / max(m.seconds, 1e-6) if m.generator_cpu_seconds else None for m in svc])
            if svc
            else None
        )
        peers = {
            n: s for n in results.systems if n not in ("service", "ceiling") and (s := _paired(runs, "service", n))
        }
        rows.append(
            Row(
                runs[0].cell,
                runs[0].images,
                runs[0].concurrency,
                systems,
                _paired(runs, "service", "ceiling"),
                peers,
                generator,
                max(m.noise.foreign_cores for r in runs for m in r.systems.values()),
                sum(r.noisy_attempts for r in runs),
                cpu[key].rounds if key in cpu else 0,
                cpu[key].noise.foreign_cores if key in cpu else None,
            )
        )
    return rows


class EqualQuality(msgspec.Struct, frozen=True):
    """One sweep series: at the service's score for the matrix quality, what each system needs."""

    image: str
    format: str
    width: int
    quality: int
    service_score: float
    score_at_quality: dict[str, float]  # equal settings
    bytes_at_quality: dict[str, int]
    bytes_at_service_score: dict[str, float | None]  # equal score, interpolated on each curve
    curves: dict[str, list[tuple[int, int, float]]]  # (quality, bytes, score) per system


def equal_quality(points: list[SweepPoint], quality: int) -> list[EqualQuality]:
    series: dict[tuple[str, str, int], list[SweepPoint]] = {}
    for p in points:
        series.setdefault((p.cell.image, p.cell.format, p.cell.width), []).append(p)
    out = []
    for (image, fmt, width), pts in series.items():
        curves: dict[str, list[tuple[int, int, float]]] = {}
        for p in sorted(pts, key=lambda p: p.cell.quality or 0):
            curves.setdefault(p.system, []).append((p.cell.quality or 0, p.bytes, p.score))
        at_q = {
            s: next((b, sc) for q, b, sc in c if q == quality)
            for s, c in curves.items()
            if any(q == quality for q, _, _ in c)
        }
        if "service" not in at_q:
            continue
        target = at_q["service"][1]
        out.append(
            EqualQuality(
                image,
                fmt,
                width,
                quality,
                target,
                {s: v[1] for s, v in at_q.items()},
                {s: v[0] for s, v in at_q.items()},
                {s: bytes_at_score([(sc, b) for _, b, sc in c], target) for s, c in curves.items()},
                curves,
            )
        )
    return out


class ScalingLine(msgspec.Struct, frozen=True):
    cell: Cell
    system: str
    one_core: Spread
    two_cores: Spread
    ratio: Spread | None  # two cores over one, paired per repeat


def summarize_scaling(runs: list[ScalingRun]) -> list[ScalingLine]:
    out = []
    for key, system in dict.fromkeys((r.cell.key, r.system) for r in runs):
        here = [r for r in runs if r.cell.key == key and r.system == system]
        one = {r.repeat: r.images_per_second for r in here if r.cores == 1}
        two = {r.repeat: r.images_per_second for r in here if r.cores == 2}
        both = sorted(set(one) & set(two))
        if both:
            out.append(
                ScalingLine(
                    here[0].cell,
                    system,
                    spread(list(one.values())),
                    spread(list(two.values())),
                    paired_ratios([two[k] for k in both], [one[k] for k in both]),
                )
            )
    return out


class BatchLine(msgspec.Struct, frozen=True):
    concurrency: int
    mode: str
    seconds_per_grid: Spread
    speedup_of_batch: Spread | None  # this mode's time per grid over the batch's, paired per repeat
    target_cpu_ms_per_grid: float | None
    client_cpu_seconds: float
    errors: int
    outputs_per_grid: int
    foreign_cores_max: float


def summarize_batch(batch: list[BatchRun]) -> list[BatchLine]:
    lines = []
    for concurrency in dict.fromkeys(b.concurrency for b in batch):
        here = [b for b in batch if b.concurrency == concurrency]
        batch_mode = next((b.mode for b in here if "/api/batch" in b.mode), None)
        base = {b.repeat: b.seconds_per_grid for b in here if b.mode == batch_mode}
        for mode in dict.fromkeys(b.mode for b in here):
            runs = sorted((b for b in here if b.mode == mode), key=lambda b: b.repeat)
            pairs = [(b.seconds_per_grid, base[b.repeat]) for b in runs if b.repeat in base]
            speed = (
                paired_ratios([a for a, _ in pairs], [b for _, b in pairs]) if mode != batch_mode and pairs else None
            )
            cpu = [b.target_cpu_seconds_per_grid for b in runs]
            lines.append(
                BatchLine(
                    concurrency,
                    mode,
                    spread([b.seconds_per_grid for b in runs]),
                    speed,
                    _ms(_median(cpu)),
                    round(sum(b.client_cpu_seconds for b in runs), 2),
                    sum(b.errors for b in runs),
                    min(b.outputs_per_grid for b in runs),
                    max(b.noise.foreign_cores for b in runs),
                )
            )
    return lines
