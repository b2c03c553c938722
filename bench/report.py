"""Results to files: JSON (everything), CSV (one row per cell, repeat and system), a markdown report
of medians and side-by-side ratios, and PNG charts."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import orjson

from .batch import BatchRun
from .matrix import Cell
from .run import CellRun, Results
from .stats import Spread, paired_ratios, spread

RESULTS = Path(__file__).parent / "results"

# What the numbers must reach (issue 4); the report says which rows meet them.
TARGET_SERVICE_TO_CEILING = 0.90  # JPEG and WebP, every width
TARGET_SERVICE_TO_PEER = 1.0  # every row
TARGET_BATCH_SPEEDUP = 4.0


class Row(msgspec.Struct, frozen=True):
    cell: Cell
    images: int
    ceiling: Spread | None
    service: Spread | None
    peer: Spread | None
    service_to_ceiling: Spread | None
    service_to_peer: Spread | None
    service_p99_ms: float | None
    peer_p99_ms: float | None
    ceiling_cpu_ms: float | None
    service_cpu_ms: float | None
    service_server_cpu_ms: float | None
    generator_cpu_ms: float | None  # hey's CPU per image while it drove the service
    generator_cores: float | None  # ...and in cores, over the measurement
    peer_cpu_ms: float | None
    peer_server_cpu_ms: float | None
    service_bytes: int | None
    peer_bytes: int | None
    service_errors: int
    peer_errors: int
    foreign_cores_max: float
    noisy_attempts: int


def _series(runs: Sequence[CellRun], get: Callable[[CellRun], float | None]) -> list[float] | None:
    values = [get(r) for r in runs]
    return [v for v in values if v is not None] if values and all(v is not None for v in values) else None


def _median(values: list[float] | None) -> float | None:
    return spread(values).median if values else None


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


def summarize(results: Results) -> list[Row]:
    by_cell: dict[str, list[CellRun]] = {}
    for run in results.cells:
        by_cell.setdefault(run.cell.key, []).append(run)
    rows = []
    for runs in by_cell.values():
        ceil = _series(runs, lambda r: r.ceiling.run.images_per_second if r.ceiling else None)
        svc = _series(runs, lambda r: r.service.load.images_per_second if r.service else None)
        peer = _series(runs, lambda r: r.peer.load.images_per_second if r.peer else None)
        first = runs[0]
        noise = [o.noise.foreign_cores for r in runs for o in (r.ceiling, r.service, r.peer) if o is not None]
        rows.append(Row(
            cell=first.cell,
            images=first.images,
            ceiling=spread(ceil) if ceil else None,
            service=spread(svc) if svc else None,
            peer=spread(peer) if peer else None,
            service_to_ceiling=paired_ratios(svc, ceil) if svc and ceil else None,
            service_to_peer=paired_ratios(svc, peer) if svc and peer else None,
            service_p99_ms=_median(_series(runs, lambda r: r.service.load.p99_ms if r.service else None)),
            peer_p99_ms=_median(_series(runs, lambda r: r.peer.load.p99_ms if r.peer else None)),
            ceiling_cpu_ms=_ms(_median(_series(runs, lambda r: r.ceiling.run.cpu_seconds_per_image
                                                if r.ceiling else None))),
            service_cpu_ms=_ms(_median(_series(runs, lambda r: r.service.cpu_seconds_per_image
                                                if r.service else None))),
            service_server_cpu_ms=_ms(_median(_series(runs, lambda r: r.service.server_cpu_seconds_per_image
                                                       if r.service else None))),
            generator_cpu_ms=_ms(_median(_series(runs, lambda r: r.service.load.generator_cpu_seconds
                                                  / max(r.service.load.ok, 1) if r.service else None))),
            generator_cores=_median(_series(runs, lambda r: r.service.load.generator_cpu_seconds
                                            / max(r.service.load.seconds, 1e-6) if r.service else None)),
            peer_cpu_ms=_ms(_median(_series(runs, lambda r: r.peer.cpu_seconds_per_image if r.peer else None))),
            peer_server_cpu_ms=_ms(_median(_series(runs, lambda r: r.peer.server_cpu_seconds_per_image
                                                    if r.peer else None))),
            service_bytes=first.service.bytes_out if first.service else None,
            peer_bytes=first.peer.bytes_out if first.peer else None,
            service_errors=sum(r.service.load.errors for r in runs if r.service),
            peer_errors=sum(r.peer.load.errors for r in runs if r.peer),
            foreign_cores_max=max(noise) if noise else 0.0,
            noisy_attempts=sum(r.noisy_attempts for r in runs),
        ))
    return rows


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
            speed = paired_ratios([a for a, _ in pairs], [b for _, b in pairs]) if mode != batch_mode and pairs else None
            cpu = [b.target_cpu_seconds_per_grid for b in runs]
            lines.append(BatchLine(
                concurrency, mode, spread([b.seconds_per_grid for b in runs]), speed,
                _ms(_median(cpu)) if all(c is not None for c in cpu) else None,  # type: ignore[arg-type]
                round(sum(b.client_cpu_seconds for b in runs), 2), sum(b.errors for b in runs),
                min(b.outputs_per_grid for b in runs), max(b.noise.foreign_cores for b in runs),
            ))
    return lines


def _fmt(s: Spread | None, digits: int = 1) -> str:
    if s is None:
        return "-"
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"


def _num(x: float | int | None, digits: int = 1) -> str:
    return "-" if x is None else (f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}")


def _q(c: Cell) -> str:
    return str(c.quality) if c.quality is not None else "-"


def markdown_table(rows: list[Row]) -> str:
    lines = ["| format | quality | width | images | ceiling img/s | service img/s | peer img/s | service/ceiling | "
             "service/peer | service p99 ms | peer p99 ms | service bytes | peer bytes |",
             "|" + "---|" * 13]
    for r in rows:
        c = r.cell
        lines.append(
            f"| {c.format} | {_q(c)} | {c.width} | {r.images} | {_fmt(r.ceiling)} | {_fmt(r.service)} | "
            f"{_fmt(r.peer)} | {_fmt(r.service_to_ceiling, 2)} | {_fmt(r.service_to_peer, 2)} | "
            f"{_num(r.service_p99_ms, 0)} | {_num(r.peer_p99_ms, 0)} | {_num(r.service_bytes)} | "
            f"{_num(r.peer_bytes)} |")
    return "\n".join(lines)


def without_generator(r: Row, cores: int) -> float | None:
    """service/ceiling if hey's cores had gone to the service instead (an upper estimate: it assumes
    the service is CPU bound and would turn every freed core-second into conversions)."""
    if not r.service_to_ceiling or r.generator_cores is None or r.generator_cores >= cores:
        return None
    return r.service_to_ceiling.median * cores / (cores - r.generator_cores)


def cpu_table(rows: list[Row], cores: int) -> str:
    lines = ["| format | quality | width | ceiling | service total | of which server process | hey (for the service) | "
             "service/ceiling without hey's CPU (est.) | peer total | of which PM2 daemon | errors service/peer | "
             "other programs, max cores | re-run |",
             "|" + "---|" * 13]
    for r in rows:
        c = r.cell
        lines.append(
            f"| {c.format} | {_q(c)} | {c.width} | {_num(r.ceiling_cpu_ms)} | {_num(r.service_cpu_ms)} | "
            f"{_num(r.service_server_cpu_ms)} | {_num(r.generator_cpu_ms)} | "
            f"{_num(without_generator(r, cores), 2)} | {_num(r.peer_cpu_ms)} | "
            f"{_num(r.peer_server_cpu_ms)} | {r.service_errors}/{r.peer_errors} | {r.foreign_cores_max:.2f} | "
            f"{r.noisy_attempts} |")
    return "\n".join(lines)


def batch_table(lines: list[BatchLine]) -> str:
    if not lines:
        return "(no batch case in this run)"
    out = ["| clients | how the grid is sent | s per grid | time per grid / batch's | stack CPU ms per grid | "
           "outputs | errors | other programs, max cores |", "|" + "---|" * 8]
    for b in lines:
        out.append(f"| {b.concurrency} | {b.mode} | {_fmt(b.seconds_per_grid, 3)} | "
                   f"{_fmt(b.speedup_of_batch, 2) if b.speedup_of_batch else '1 (the batch)'} | "
                   f"{_num(b.target_cpu_ms_per_grid, 0)} | {b.outputs_per_grid} | {b.errors} | "
                   f"{b.foreign_cores_max:.2f} |")
    return "\n".join(out)


def targets(rows: list[Row], batch: list[BatchLine]) -> str:
    """Each goal of the issue, met or not, with the rows that miss it."""
    out = []
    ceil_rows = [r for r in rows if r.cell.format in ("jpeg", "webp") and r.service_to_ceiling]
    if ceil_rows:
        miss = [r for r in ceil_rows if r.service_to_ceiling.median < TARGET_SERVICE_TO_CEILING]  # type: ignore[union-attr]
        out.append(f"- service/ceiling >= {TARGET_SERVICE_TO_CEILING} for JPEG and WebP: "
                   f"{len(ceil_rows) - len(miss)} of {len(ceil_rows)} rows meet it (median of the paired ratios)"
                   + (": misses " + ", ".join(f"{r.cell.key} {r.service_to_ceiling.median:.2f}"  # type: ignore[union-attr]
                                              for r in miss) if miss else "."))
    for fmt in dict.fromkeys(r.cell.format for r in rows):
        sub = [r.service_to_ceiling.median for r in rows if r.cell.format == fmt and r.service_to_ceiling]
        if sub:
            out.append(f"  - {fmt}: service/ceiling from {min(sub):.2f} to {max(sub):.2f}, median "
                       f"{spread(sub).median:.2f} over {len(sub)} rows")
    peer_rows = [r for r in rows if r.service_to_peer]
    if peer_rows:
        miss = [r for r in peer_rows if r.service_to_peer.median < TARGET_SERVICE_TO_PEER]  # type: ignore[union-attr]
        values = [r.service_to_peer.median for r in peer_rows]  # type: ignore[union-attr]
        out.append(f"- service/peer >= {TARGET_SERVICE_TO_PEER:g} on every row: {len(peer_rows) - len(miss)} of "
                   f"{len(peer_rows)} rows meet it; median {spread(values).median:.2f}, range "
                   f"{min(values):.2f}-{max(values):.2f}"
                   + ("; misses " + ", ".join(f"{r.cell.key} {r.service_to_peer.median:.2f}"  # type: ignore[union-attr]
                                              for r in miss) if miss else "."))
    for b in batch:
        if b.speedup_of_batch and "one after another" in b.mode:
            verdict = "meets" if b.speedup_of_batch.median >= TARGET_BATCH_SPEEDUP else "misses"
            out.append(f"- batch >= {TARGET_BATCH_SPEEDUP:g}x faster than nine singles ({b.mode}, {b.concurrency} "
                       f"client{'s' if b.concurrency > 1 else ''}): {b.speedup_of_batch.median:.2f}x, {verdict} it")
    return "\n".join(out) if out else "(no ratios in this run)"


CSV_COLUMNS = ["format", "quality", "width", "repeat", "system", "position", "images", "ok", "errors", "seconds",
               "images_per_second", "p50_ms", "p95_ms", "p99_ms", "cpu_ms_per_image", "server_cpu_ms_per_image",
               "generator_cpu_s", "bytes_in", "bytes_out", "foreign_cores", "steal_cores", "noisy_attempts"]


def write_csv(results: Results, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for r in results.cells:
            c = r.cell
            for name in r.order:
                base = [c.format, c.quality, c.width, r.repeat, name, r.order.index(name), r.images]
                if name == "ceiling" and r.ceiling:
                    m = r.ceiling
                    w.writerow(base + [m.run.images, 0, m.run.seconds, round(m.run.images_per_second, 3), "", "",
                                       "", round(m.run.cpu_seconds_per_image * 1000, 2), "", "", "", "",
                                       m.noise.foreign_cores, m.noise.steal_cores, r.noisy_attempts])
                    continue
                s = r.service if name == "service" else r.peer
                if s is None:
                    continue
                ld = s.load
                w.writerow(base + [ld.ok, ld.errors, ld.seconds, round(ld.images_per_second, 3), round(ld.p50_ms, 1),
                                   round(ld.p95_ms, 1), round(ld.p99_ms, 1), _round(_ms(s.cpu_seconds_per_image)),
                                   _round(_ms(s.server_cpu_seconds_per_image)), round(ld.generator_cpu_seconds, 3),
                                   s.bytes_in, s.bytes_out, s.noise.foreign_cores, s.noise.steal_cores,
                                   r.noisy_attempts])
    with path.with_name("batch.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["repeat", "clients", "mode", "grids", "seconds", "seconds_per_grid", "errors", "outputs_per_grid",
                    "client_cpu_s", "stack_cpu_ms_per_grid", "foreign_cores", "steal_cores"])
        for b in results.batch:
            w.writerow([b.repeat, b.concurrency, b.mode, b.grids, b.seconds, round(b.seconds_per_grid, 4), b.errors,
                        b.outputs_per_grid, b.client_cpu_seconds, _round(_ms(b.target_cpu_seconds_per_grid)),
                        b.noise.foreign_cores, b.noise.steal_cores])


def _round(x: float | None, digits: int = 2) -> float | str:
    return "" if x is None else round(x, digits)


def charts(rows: list[Row], directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    formats = list(dict.fromkeys(r.cell.format for r in rows))
    systems: list[tuple[str, Callable[[Row], Spread | None], str]] = [
        ("ceiling (libvips alone)", lambda r: r.ceiling, "#999999"),
        ("service", lambda r: r.service, "#1f77b4"),
        ("peer (Node + sharp)", lambda r: r.peer, "#ff7f0e"),
    ]
    present = [s for s in systems if any(s[1](r) for r in rows)]

    fig, axes = plt.subplots(len(formats), 1, figsize=(10, 2.9 * len(formats)), squeeze=False)
    for ax, fmt in zip(axes[:, 0], formats):
        sub = [r for r in rows if r.cell.format == fmt]
        labels = [f"q{r.cell.quality} w{r.cell.width}" if r.cell.quality else f"w{r.cell.width}" for r in sub]
        width = 0.8 / max(len(present), 1)
        for k, (name, get, colour) in enumerate(present):
            xs = [i + (k - (len(present) - 1) / 2) * width for i in range(len(sub))]
            med = [(get(r).median if get(r) else 0.0) for r in sub]  # type: ignore[union-attr]
            err = [[m - (get(r).low if get(r) else 0.0) for m, r in zip(med, sub)],  # type: ignore[union-attr]
                   [(get(r).high if get(r) else 0.0) - m for m, r in zip(med, sub)]]  # type: ignore[union-attr]
            ax.bar(xs, med, width, yerr=err, capsize=2, label=name, color=colour, error_kw={"elinewidth": 0.8})
        ax.set_xticks(range(len(sub)), labels, fontsize=8)
        ax.set_title(f"{fmt.upper()}: images/s, median of repeats, bars min-max", fontsize=10)
        ax.set_ylabel("images/s")
        if fmt == "avif":
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = directory / "throughput.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    out.append(path)

    widths = sorted({r.cell.width for r in rows})
    fig, axes = plt.subplots(1, len(widths), figsize=(4.2 * len(widths), 3.8), squeeze=False, sharey=True)
    for ax, width in zip(axes[0], widths):
        for fmt in formats:
            sub = sorted((r for r in rows if r.cell.format == fmt and r.cell.width == width and r.service_bytes),
                         key=lambda r: r.cell.quality or 0)
            if any(r.cell.quality for r in sub):
                ax.plot([r.cell.quality for r in sub], [r.service_bytes / 1024 for r in sub],  # type: ignore[operator]
                        marker="o", label=fmt)
            elif sub:
                ax.axhline(sub[0].service_bytes / 1024, linestyle="--", label=f"{fmt} (lossless)",  # type: ignore[operator]
                           color="grey" if fmt == "png" else "black")
        ax.set_xlabel("quality")
        ax.set_title(f"width {width}", fontsize=10)
        ax.set_yscale("log")
    axes[0][0].set_ylabel("KiB out (service)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("Output bytes vs quality per format", fontsize=11)
    fig.tight_layout()
    path = directory / "bytes_vs_quality.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    out.append(path)

    ratio_rows = [r for r in rows if r.service_to_ceiling or r.service_to_peer]
    if ratio_rows:
        fig, ax = plt.subplots(figsize=(12, 3.8))
        xs = range(len(ratio_rows))
        for k, (name, get, colour, goal) in enumerate((
                ("service/ceiling", lambda r: r.service_to_ceiling, "#1f77b4", TARGET_SERVICE_TO_CEILING),
                ("service/peer", lambda r: r.service_to_peer, "#ff7f0e", TARGET_SERVICE_TO_PEER))):
            pts = [(i, get(r)) for i, r in zip(xs, ratio_rows) if get(r)]
            if not pts:
                continue
            ax.errorbar([i + (k - 0.5) * 0.25 for i, _ in pts], [s.median for _, s in pts],
                        yerr=[[s.median - s.low for _, s in pts], [s.high - s.median for _, s in pts]],
                        fmt="o", ms=4, capsize=2, color=colour, label=name)
            ax.axhline(goal, color=colour, linestyle=":", linewidth=1)
        ax.set_xticks(list(xs), [r.cell.key.replace("/", " ") for r in ratio_rows], rotation=90, fontsize=7)
        ax.set_ylabel("ratio (paired per repeat)")
        ax.set_title("Side-by-side ratios per cell (dotted: the targets)", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = directory / "ratios.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append(path)
    return out


def write_all(results: Results, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_bytes(orjson.dumps(msgspec.to_builtins(results), option=orjson.OPT_INDENT_2))
    write_csv(results, directory / "results.csv")
    return render(results, directory)


def load_results(path: Path) -> Results:
    return msgspec.convert(orjson.loads(path.read_bytes()), Results)


def _mib(n: int | None) -> str:
    return "not measured (not started here)" if n is None else f"{n / 2**20:,.0f} MiB"


def render(results: Results, directory: Path) -> Path:
    rows = summarize(results)
    batch = summarize_batch(results.batch)
    pictures = charts(rows, directory) if rows else []
    m, spec = results.machine, results.spec
    parts: list[Any] = [
        f"Run {results.started}, {results.seconds / 60:.0f} min, `{results.command}`",
        f"Machine: {m.cpu}, {m.cores} usable vCPUs, {m.memory_gib} GiB, virtual machine: {m.hypervisor}, "
        f"Linux {m.kernel}, Python {m.python}, libvips {m.libvips} (pyvips-binary); peer: "
        f"{results.peer_versions or 'not run'}; load generator: {results.load_generator}.",
        f"Image {spec.image}; each measurement converts the same number of images on every system "
        f"(column `images`: about {spec.seconds:g} s of the ceiling's work, at least {spec.min_images}), "
        f"{spec.concurrency} concurrent requests, {spec.repeats} repeats, the systems' order rotated each repeat. "
        "img/s = images / (first request's start to last answer's end). Values are medians with (min-max) over "
        "the repeats; ratios are taken within each repeat, then their median and range.",
        "### Targets\n\n" + targets(rows, batch),
        "### Throughput, ratios, latency, bytes\n\n" + markdown_table(rows),
        "### CPU per image (ms) and noise\n\n"
        "Stack CPU from /proc of the service (server + forkserver + workers) or the peer (PM2 daemon + "
        "cluster workers); the ceiling's is its processes'. hey's own CPU while driving the service is "
        "shown separately: it runs on the same cores. `other programs`: busy CPU of the machine not "
        f"accounted to the bench, in cores; a cell where it passed {results.noise_limit_cores} was measured again "
        "once (`re-run`; at most a quarter of the cells), and the second measurement kept.\n\n" + cpu_table(rows, m.cores),
        f"### Batch case ({spec.batch_image}, JPEG, widths 320/800/1600 x qualities 50/75/90)\n\n"
        f"{spec.batch_grids} grids per measurement, shared out among the clients; each client sends its grids one "
        "after another.\n\n" + batch_table(batch),
        f"Peak RSS over the run (sum of VmHWM): service + workers {_mib(results.peak_rss_service_bytes)}, "
        f"peer (PM2 daemon + cluster workers) {_mib(results.peak_rss_peer_bytes)}.",
        "\n\n".join(f"![{p.stem}]({p.name})" for p in pictures),
    ]
    path = directory / "report.md"
    path.write_text("\n\n".join(parts) + "\n")
    return path
