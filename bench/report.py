"""Results to files: JSON (everything), CSV (one row per cell and repeat), a markdown table of
medians and side-by-side ratios, and PNG charts."""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec
import orjson

from .matrix import Cell
from .run import CellRun, Results
from .stats import Spread, paired_ratios, spread

RESULTS = Path(__file__).parent / "results"


class Row(msgspec.Struct, frozen=True):
    cell: Cell
    ceiling: Spread | None
    service: Spread | None
    peer: Spread | None
    service_to_ceiling: Spread | None
    service_to_peer: Spread | None
    service_p99_ms: float | None
    peer_p99_ms: float | None
    service_cpu_ms_per_image: float | None
    peer_cpu_ms_per_image: float | None
    service_bytes: int | None
    peer_bytes: int | None
    service_errors: int
    peer_errors: int


class BatchSummary(msgspec.Struct, frozen=True):
    batch_seconds: Spread
    singles_service_seconds: Spread
    singles_peer_seconds: Spread | None
    speedup_vs_service_singles: Spread | None
    speedup_vs_peer_singles: Spread | None


def summarize(results: Results) -> list[Row]:
    by_cell: dict[str, list[CellRun]] = {}
    for run in results.cells:
        by_cell.setdefault(run.cell.key, []).append(run)
    rows = []
    for runs in by_cell.values():
        def series(get):  # type: ignore[no-untyped-def]
            values = [get(r) for r in runs]
            return values if all(v is not None for v in values) and values else None

        ceil = series(lambda r: r.ceiling_images_per_second)
        svc = series(lambda r: r.service.load.images_per_second if r.service else None)
        peer = series(lambda r: r.peer.load.images_per_second if r.peer else None)
        med = lambda xs: spread(xs).median if xs else None  # noqa: E731
        rows.append(Row(
            cell=runs[0].cell,
            ceiling=spread(ceil) if ceil else None,
            service=spread(svc) if svc else None,
            peer=spread(peer) if peer else None,
            service_to_ceiling=paired_ratios(svc, ceil) if svc and ceil else None,
            service_to_peer=paired_ratios(svc, peer) if svc and peer else None,
            service_p99_ms=med(series(lambda r: r.service.load.p99_ms if r.service else None)),
            peer_p99_ms=med(series(lambda r: r.peer.load.p99_ms if r.peer else None)),
            service_cpu_ms_per_image=_ms(med(series(lambda r: r.service.cpu_seconds_per_image if r.service else None))),
            peer_cpu_ms_per_image=_ms(med(series(lambda r: r.peer.cpu_seconds_per_image if r.peer else None))),
            service_bytes=runs[0].service.bytes_out if runs[0].service else None,
            peer_bytes=runs[0].peer.bytes_out if runs[0].peer else None,
            service_errors=sum(r.service.load.errors for r in runs if r.service),
            peer_errors=sum(r.peer.load.errors for r in runs if r.peer),
        ))
    return rows


def _ms(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


def summarize_batch(results: Results) -> BatchSummary | None:
    if not results.batch:
        return None
    b = results.batch
    peer = [x.singles_peer_seconds for x in b]
    has_peer = all(p is not None for p in peer)
    return BatchSummary(
        batch_seconds=spread([x.batch_seconds for x in b]),
        singles_service_seconds=spread([x.singles_service_seconds for x in b]),
        singles_peer_seconds=spread(peer) if has_peer else None,  # type: ignore[arg-type]
        speedup_vs_service_singles=paired_ratios([x.singles_service_seconds for x in b], [x.batch_seconds for x in b]),
        speedup_vs_peer_singles=paired_ratios(peer, [x.batch_seconds for x in b]) if has_peer else None,  # type: ignore[arg-type]
    )


def _fmt(s: Spread | None, digits: int = 1) -> str:
    if s is None:
        return "-"
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}-{s.high:.{digits}f})"


def _num(x: float | int | None, digits: int = 1) -> str:
    return "-" if x is None else (f"{x:,}" if isinstance(x, int) else f"{x:.{digits}f}")


def markdown_table(rows: list[Row]) -> str:
    head = ("| format | quality | width | ceiling img/s | service img/s | peer img/s | service/ceiling | "
            "service/peer | service p99 ms | peer p99 ms | service CPU ms/img | peer CPU ms/img | "
            "service bytes | peer bytes |\n|" + "---|" * 14)
    lines = [head]
    for r in rows:
        c = r.cell
        lines.append(
            f"| {c.format} | {c.quality if c.quality is not None else '-'} | {c.width} | {_fmt(r.ceiling)} | "
            f"{_fmt(r.service)} | {_fmt(r.peer)} | {_fmt(r.service_to_ceiling, 2)} | {_fmt(r.service_to_peer, 2)} | "
            f"{_num(r.service_p99_ms, 0)} | {_num(r.peer_p99_ms, 0)} | {_num(r.service_cpu_ms_per_image)} | "
            f"{_num(r.peer_cpu_ms_per_image)} | {_num(r.service_bytes)} | {_num(r.peer_bytes)} |")
    return "\n".join(lines)


def batch_table(summary: BatchSummary | None) -> str:
    if summary is None:
        return "(no batch case in this run)"
    return "\n".join([
        "| measure | median (min-max) |", "|---|---|",
        f"| one 3x3 `/api/batch` (s) | {_fmt(summary.batch_seconds, 3)} |",
        f"| nine singles to this service, 3 at a time (s) | {_fmt(summary.singles_service_seconds, 3)} |",
        f"| nine singles to the original stack, 3 at a time (s) | {_fmt(summary.singles_peer_seconds, 3)} |",
        f"| speed-up vs nine singles here | {_fmt(summary.speedup_vs_service_singles, 2)} |",
        f"| speed-up vs nine singles to the original | {_fmt(summary.speedup_vs_peer_singles, 2)} |",
    ])


def write_csv(results: Results, path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["format", "quality", "width", "repeat", "ceiling_ips", "service_ips", "service_p50_ms",
                    "service_p95_ms", "service_p99_ms", "service_errors", "service_cpu_s_per_img", "service_bytes_out",
                    "peer_ips", "peer_p50_ms", "peer_p95_ms", "peer_p99_ms", "peer_errors", "peer_cpu_s_per_img",
                    "peer_bytes_out", "bytes_in", "generator_cpu_s_service", "generator_cpu_s_peer"])
        for r in results.cells:
            s, p = r.service, r.peer
            w.writerow([r.cell.format, r.cell.quality, r.cell.width, r.repeat, r.ceiling_images_per_second,
                        s and s.load.images_per_second, s and s.load.p50_ms, s and s.load.p95_ms, s and s.load.p99_ms,
                        s and s.load.errors, s and s.cpu_seconds_per_image, s and s.bytes_out,
                        p and p.load.images_per_second, p and p.load.p50_ms, p and p.load.p95_ms, p and p.load.p99_ms,
                        p and p.load.errors, p and p.cpu_seconds_per_image, p and p.bytes_out,
                        (s or p) and (s or p).bytes_in, s and s.load.generator_cpu_seconds,
                        p and p.load.generator_cpu_seconds])


def charts(rows: list[Row], directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    formats = list(dict.fromkeys(r.cell.format for r in rows))
    fig, axes = plt.subplots(1, len(formats), figsize=(4 * len(formats), 3.6), squeeze=False)
    for ax, fmt in zip(axes[0], formats):
        sub = [r for r in rows if r.cell.format == fmt]
        labels = [f"q{r.cell.quality}\nw{r.cell.width}" if r.cell.quality else f"w{r.cell.width}" for r in sub]
        x = range(len(sub))
        for offset, (name, get) in enumerate((("ceiling", lambda r: r.ceiling), ("service", lambda r: r.service),
                                              ("peer", lambda r: r.peer))):
            ax.bar([i + (offset - 1) * 0.27 for i in x], [(get(r).median if get(r) else 0) for r in sub], 0.27,
                   label=name)
        ax.set_xticks(list(x), labels, fontsize=7)
        ax.set_title(fmt.upper())
        ax.set_ylabel("images/s")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Throughput per format, quality and width (median of repeats)")
    fig.tight_layout()
    path = directory / "throughput.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    out.append(path)

    fig, ax = plt.subplots(figsize=(6.5, 4))
    widest = max(r.cell.width for r in rows)
    for fmt in formats:
        sub = sorted((r for r in rows if r.cell.format == fmt and r.cell.width == widest and r.service_bytes),
                     key=lambda r: r.cell.quality or 0)
        if any(r.cell.quality for r in sub):
            ax.plot([r.cell.quality for r in sub], [r.service_bytes / 1024 for r in sub], marker="o", label=fmt)
        elif sub:
            ax.axhline(sub[0].service_bytes / 1024, linestyle="--", label=f"{fmt} (lossless)")
    ax.set_xlabel("quality")
    ax.set_ylabel(f"KiB at width {widest}")
    ax.set_yscale("log")
    ax.set_title("Output bytes vs quality per format")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = directory / "bytes_vs_quality.png"
    fig.savefig(path, dpi=110)
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


def render(results: Results, directory: Path) -> Path:
    rows = summarize(results)
    charts(rows, directory)
    m = results.machine
    text = "\n\n".join([
        f"Run {results.started}, {results.seconds:.0f} s, `{results.command}`",
        f"Machine: {m.cpu}, {m.cores} usable vCPUs, Linux {m.kernel}, Python {m.python}, libvips {m.libvips}",
        f"Each cell: at least {results.spec.seconds:g} s of load (longer for slow cells, enough for "
        f"{results.spec.min_images} images) at concurrency {results.spec.concurrency} per system, "
        f"{results.spec.repeats} repeats; ceiling, service and peer measured back to back in every repeat. "
        "Values are medians with (min-max) over the repeats; ratios are taken per repeat, then their median.",
        markdown_table(rows),
        "Batch case (TwoWings.jpg 2560x1600, JPEG, widths 320/800/1600 x qualities 50/75/90):",
        batch_table(summarize_batch(results)),
        f"Peak RSS: service + workers {_num((results.peak_rss_service_bytes or 0) / 2**20)} MiB, "
        f"peer (PM2 daemon + cluster workers) {_num((results.peak_rss_peer_bytes or 0) / 2**20)} MiB.",
        "![throughput](throughput.png)\n\n![bytes vs quality](bytes_vs_quality.png)",
    ])
    path = directory / "report.md"
    path.write_text(text + "\n")
    return path
