"""Which conversions are measured: formats x qualities x widths, one image each."""

from __future__ import annotations

import itertools
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
    seconds: float  # per measurement, at least
    repeats: int
    concurrency: int
    min_images: int = 12  # slow cells (AVIF at 1600) get longer windows: at least this many images
    max_seconds: float = 40.0


FULL = MatrixSpec(("jpeg", "png", "webp", "avif", "tiff"), (50, 75, 90), (320, 800, 1600),
                  "Storm.jpg", seconds=4.0, repeats=3, concurrency=4)
QUICK = MatrixSpec(("jpeg", "webp", "avif"), (75,), (320, 800), "Storm.jpg", seconds=1.5, repeats=3, concurrency=4,
                   min_images=6, max_seconds=4.0)


def cells(spec: MatrixSpec) -> list[Cell]:
    out: list[Cell] = []
    for fmt, width in itertools.product(spec.formats, spec.widths):
        if fmt in LOSSLESS:
            out.append(Cell(fmt, None, width))
        else:
            out.extend(Cell(fmt, q, width) for q in spec.qualities)
    return sorted(out, key=lambda c: (spec.formats.index(c.format), c.quality or 0, c.width))
