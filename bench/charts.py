"""PNG charts of a summarized run: throughput per cell, interleaved CPU per image, and the
bytes-vs-score curves of every system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .summary import EqualQuality, Row

# Identical curves (the service and the original share libvips and its encoder settings) would hide
# each other: the service is drawn wide and pale underneath, the others thin on top.
STYLES: dict[str, dict[str, Any]] = {
    "service": {"linewidth": 5, "alpha": 0.45, "zorder": 1},
    "original": {"linestyle": "--", "zorder": 2},
    "thumbor": {"linestyle": ":", "zorder": 3},
}
COLOURS = {"ceiling": "#999999", "service": "#1f77b4", "original": "#ff7f0e", "thumbor": "#2ca02c"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _bars(ax: Any, rows: list[Row], systems: list[str], value: Any, ylabel: str) -> None:
    width = 0.8 / max(len(systems), 1)
    for k, name in enumerate(systems):
        xs = [i + (k - (len(systems) - 1) / 2) * width for i in range(len(rows))]
        ys = [value(r, name) or 0.0 for r in rows]
        ax.bar(xs, ys, width, label=name, color=COLOURS.get(name))
    ax.set_xticks(range(len(rows)), [f"{r.cell.format} w{r.cell.width}" for r in rows], rotation=60, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel, fontsize=8)


def per_image_bars(
    rows: list[Row], directory: Path, name: str, systems: list[str], value: Any, title: str, ylabel: str
) -> Path:
    plt = _pyplot()
    images = list(dict.fromkeys(r.cell.image for r in rows))
    fig, axes = plt.subplots(len(images), 1, figsize=(11, 3.2 * len(images)), squeeze=False)
    for ax, image in zip(axes[:, 0], images, strict=True):
        _bars(ax, [r for r in rows if r.cell.image == image], systems, value, ylabel)
        ax.set_title(f"{image}: {title}", fontsize=9)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    path = directory / name
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def bytes_vs_score(lines: list[EqualQuality], directory: Path) -> Path | None:
    if not lines:
        return None
    plt = _pyplot()
    images = list(dict.fromkeys(e.image for e in lines))
    formats = list(dict.fromkeys(e.format for e in lines))
    fig, axes = plt.subplots(len(images), len(formats), figsize=(4.2 * len(formats), 3.4 * len(images)), squeeze=False)
    for e in lines:
        ax = axes[images.index(e.image)][formats.index(e.format)]
        for system, curve in e.curves.items():
            ax.plot(
                [s for _, _, s in curve],
                [b / 1024 for _, b, _ in curve],
                marker="o",
                ms=3,
                label=system,
                color=COLOURS.get(system),
                **STYLES.get(system, {}),
            )
            at_q = [(s, b) for q, b, s in curve if q == e.quality]
            if at_q:
                ax.plot([at_q[0][0]], [at_q[0][1] / 1024], marker="*", ms=10, color=COLOURS.get(system))
        ax.axvline(e.service_score, color="#1f77b4", linestyle=":", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_title(f"{e.image} -> {e.format} {e.width} wide", fontsize=9)
        ax.set_xlabel("score (SSIM on luminance)", fontsize=8)
        ax.set_ylabel("KiB", fontsize=8)
        ax.legend(fontsize=7)
    fig.suptitle(f"Bytes vs score (star: quality {lines[0].quality}; dotted: the service's score there)", fontsize=10)
    fig.tight_layout()
    path = directory / "bytes_vs_score.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def charts(rows: list[Row], equal: list[EqualQuality], systems: list[str], directory: Path) -> list[Path]:
    out = [
        per_image_bars(
            rows,
            directory,
            "throughput.png",
            systems,
            lambda r, n: (
                r.systems[n].images_per_second.median if n in r.systems and r.systems[n].images_per_second else None
            ),
            "images/s, median of repeats (log)",
            "images/s",
        )
    ]
    http = [s for s in systems if s != "ceiling"]
    out.append(
        per_image_bars(
            rows,
            directory,
            "cpu_per_image.png",
            http,
            lambda r, n: r.systems[n].cpu_ms if n in r.systems else None,
            "CPU ms per image, whole process tree, interleaved (log)",
            "CPU ms",
        )
    )
    curve = bytes_vs_score(equal, directory)
    return out + ([curve] if curve else [])
