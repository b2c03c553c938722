"""Results to files: JSON (everything), CSV (one row per cell, repeat and system; one per sweep
point), a markdown report of medians, side-by-side ratios and the targets, and PNG charts."""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec
import orjson

from . import tables
from .charts import charts
from .corpus import IMAGES
from .results import BatchRun, CellRun, Results
from .summary import equal_quality, summarize, summarize_batch, summarize_scaling
from .verdicts import verdicts

RESULTS = Path(__file__).parent / "results"

CSV_COLUMNS = [
    "image",
    "format",
    "quality",
    "width",
    "repeat",
    "system",
    "position",
    "images",
    "ok",
    "errors",
    "seconds",
    "images_per_second",
    "p50_ms",
    "p99_ms",
    "cpu_ms_per_image",
    "server_cpu_ms_per_image",
    "generator_cpu_s",
    "foreign_cores",
    "steal_cores",
    "noisy_attempts",
]

BATCH_COLUMNS = ["repeat", "clients", "mode", "grids", "seconds", "seconds_per_grid", "errors", "outputs_per_grid",
                 "client_cpu_s", "stack_cpu_ms_per_grid", "foreign_cores", "steal_cores"]  # fmt: skip


def _round(x: float | None, digits: int = 2) -> float | str:
    return "" if x is None else round(x, digits)


def _cell_row(r: CellRun, position: int, name: str) -> list[object]:
    c, m = r.cell, r.systems[name]
    cpu, server = m.cpu_seconds_per_image, m.server_cpu_seconds_per_image
    return [c.image, c.format, c.quality, c.width, r.repeat, name, position, r.images, m.ok, m.errors, m.seconds,
            round(m.images_per_second, 3), _round(m.p50_ms, 1), _round(m.p99_ms, 1), _round(cpu and cpu * 1000),
            _round(server and server * 1000), _round(m.generator_cpu_seconds, 3), m.noise.foreign_cores,
            m.noise.steal_cores, r.noisy_attempts]  # fmt: skip


def _batch_row(b: BatchRun) -> list[object]:
    cpu = b.target_cpu_seconds_per_grid
    return [b.repeat, b.concurrency, b.mode, b.grids, b.seconds, round(b.seconds_per_grid, 4), b.errors,
            b.outputs_per_grid, b.client_cpu_seconds, _round(cpu and cpu * 1000), b.noise.foreign_cores,
            b.noise.steal_cores]  # fmt: skip


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_csv(results: Results, path: Path) -> None:
    """results.csv (one row per cell, repeat and system), sweep.csv and batch.csv beside it."""
    _write(path, CSV_COLUMNS, [_cell_row(r, k, n) for r in results.cells for k, n in enumerate(r.order)])
    _write(path.with_name("sweep.csv"), ["image", "format", "quality", "width", "system", "bytes", "score"],
           [[p.cell.image, p.cell.format, p.cell.quality, p.cell.width, p.system, p.bytes, p.score]
            for p in results.sweep])  # fmt: skip
    _write(path.with_name("batch.csv"), BATCH_COLUMNS, [_batch_row(b) for b in results.batch])


def write_all(results: Results, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_bytes(orjson.dumps(msgspec.to_builtins(results), option=orjson.OPT_INDENT_2))
    write_csv(results, directory / "results.csv")
    return render(results, directory)


def load_results(path: Path) -> Results:
    return msgspec.convert(orjson.loads(path.read_bytes()), Results)


def _header(results: Results) -> list[str]:
    m, spec = results.machine, results.spec
    versions = "; ".join(f"{k}: {v}" for k, v in results.versions.items()) or "-"
    rss = ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in results.peak_rss_bytes.items()) or "-"
    phases = ", ".join(f"{k} {v / 60:.1f}" for k, v in results.phase_seconds.items())
    return [
        f"Run {results.started}, {results.seconds / 60:.1f} min ({phases} min), `{results.command}`",
        f"Machine: {m.cpu}, {m.cores} usable vCPUs, {m.memory_gib} GiB, virtual machine: {m.hypervisor}, "
        f"Linux {m.kernel}, Python {m.python}, libvips {m.libvips} (pyvips-binary); {versions}; "
        f"load generator: {results.load_generator}. Peak RSS (sum of VmHWM): {rss}.",
        f"Images {', '.join(spec.images)}; lossy cells at quality {spec.quality}; {spec.concurrency} concurrent "
        f"requests (one per worker on slow cells), {spec.repeats} repeats, the systems' order rotated each "
        "repeat; each throughput measurement converts the same number of images on every system (column "
        f"`images`: about {spec.seconds:g} s of the ceiling's work, at least {spec.min_images}). img/s = images / "
        "(first request's start to last answer's end); medians with (min-max) over the repeats; ratios taken "
        "within each repeat, then their median.",
    ]


def render(results: Results, directory: Path) -> Path:
    rows = summarize(results)
    equal = equal_quality(results.sweep, results.spec.quality)
    batch = summarize_batch(results.batch)
    scaling = summarize_scaling(results.scaling)
    pictures = charts(rows, equal, results.systems, directory) if rows else []
    quick = "--quick" in results.command
    parts = [
        *_header(results),
        "### Targets (issue 11)\n\n" + verdicts(rows, equal, batch, scaling, results.seconds / 60, quick),
        "### CPU per image, interleaved (the robust figure), with bytes and score at equal settings\n\n"
        "One request at a time, the systems taking turns, each request's CPU read from /proc for the system's "
        "whole process tree; mean over the rounds (bold: the lowest). Score: SSIM on luminance against the "
        "bench's reference (full decode, exact Lanczos-3 to the output's size).\n\n" + tables.cpu_table(rows),
        "### Throughput and latency under load\n\n" + tables.throughput_table(rows),
        "### Equal quality: bytes at equal score (from the sweeps)\n\n"
        "Each system's bytes-vs-score curve over the sweep qualities, read (log-linear) at the score the "
        f"service reaches at quality {results.spec.quality}.\n\n"
        + tables.equal_quality_table(equal)
        + "\n\n"
        + tables.curves_table(equal),
        "### Scaling: 1 core vs 2 cores (taskset on the whole process tree and on hey)\n\n"
        + tables.scaling_table(scaling),
        f"### Batch case ({IMAGES[results.spec.batch_image].file}, JPEG, widths 320/800/1600 x qualities 50/75/90)\n\n"
        + tables.batch_table(batch),
        "### CPU per image under load, and noise\n\n"
        f"A cell where other programs used more than {results.noise_limit_cores} cores was measured again once "
        "(`re-run`).\n\n" + tables.load_cpu_table(rows, results.machine.cores),
        "\n\n".join(f"![{p.stem}]({p.name})" for p in pictures),
    ]
    path = directory / "report.md"
    path.write_text("\n\n".join(parts) + "\n")
    return path
