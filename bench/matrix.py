"""Which conversions are measured (formats x qualities x widths, one photograph) and how much load
each measurement gets."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import msgspec

CORPUS = Path(__file__).parent / "corpus"
# Lossless encoders have no quality: measured once per width, at the quality column "-".
LOSSLESS = frozenset({"png", "tiff"})


class Cell(msgspec.Struct, frozen=True):
    format: str
    quality: int | None
    width: int

    @property
    def key(self) -> str:
        return f"{self.format}/q{self.quality if self.quality is not None else '-'}/w{self.width}"

    def params(self) -> dict[str, str]:
        """The same options for every system: only what the original service also understood."""
        params = {"format": self.format, "width": str(self.width)}
        if self.quality is not None:
            params["quality"] = str(self.quality)
        return params


class MatrixSpec(msgspec.Struct, frozen=True):
    formats: tuple[str, ...]
    qualities: tuple[int, ...]
    widths: tuple[int, ...]
    image: str
    seconds: float  # target length of one measurement; the image count is sized from it
    repeats: int
    concurrency: int
    min_images: int = 12  # slow cells (AVIF at 1600) still get this many images per measurement
    batch_image: str = "TwoWings.jpg"
    batch_grids: int = 12  # 3x3 grids per batch measurement, shared out among the clients
    batch_concurrency: tuple[int, ...] = (1, 4)  # clients, each sending its grids one after another


FULL = MatrixSpec(("jpeg", "png", "webp", "avif", "tiff"), (50, 75, 90), (320, 800, 1600),
                  "Storm.jpg", seconds=3.5, repeats=3, concurrency=4)
QUICK = MatrixSpec(("jpeg", "webp", "avif"), (75,), (320, 800), "Storm.jpg", seconds=1.5, repeats=3,
                   concurrency=4, min_images=8, batch_grids=4)


def cells(spec: MatrixSpec) -> list[Cell]:
    out: list[Cell] = []
    for fmt, width in itertools.product(spec.formats, spec.widths):
        if fmt in LOSSLESS:
            out.append(Cell(fmt, None, width))
        else:
            out.extend(Cell(fmt, q, width) for q in spec.qualities)
    return sorted(out, key=lambda c: (spec.formats.index(c.format), c.quality or 0, c.width))


def images_per_measurement(spec: MatrixSpec, images_per_second: float, workers: int) -> int:
    """How many images one measurement converts: about `seconds` of work at the expected rate, at
    least `min_images`, and a multiple of both the worker count and the client count so every
    worker and every client gets the same share (the run ends with all of them busy)."""
    count = max(spec.min_images, images_per_second * spec.seconds)
    step = math.lcm(max(workers, 1), max(spec.concurrency, 1))
    return max(step, math.ceil(count / step) * step)


def rotation(systems: list[str], repeat: int) -> list[str]:
    """The order systems run in within one repeat, rotated each repeat: whatever drifts during a
    cell (a neighbour's load, turbo, a cache) does not always land on the same system."""
    if not systems:
        return []
    k = repeat % len(systems)
    return systems[k:] + systems[:k]
