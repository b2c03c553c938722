"""Which conversions are measured (images x formats x widths at one quality), the quality sweeps
behind the bytes-vs-score curves, and how much load each measurement gets."""

from __future__ import annotations

import itertools
import math

import msgspec

from .corpus import SHARED_CORPUS

# The photographs' directory, for tools that read a corpus file by name (bench/studies/server_cpu.py).
CORPUS = SHARED_CORPUS
# Lossless encoders have no quality: measured at the quality column "-".
LOSSLESS = frozenset({"png", "tiff"})


class Cell(msgspec.Struct, frozen=True):
    image: str  # a key of corpus.IMAGES
    format: str
    quality: int | None
    width: int

    @property
    def key(self) -> str:
        return f"{self.image}/{self.format}/q{self.quality if self.quality is not None else '-'}/w{self.width}"

    def params(self) -> dict[str, str]:
        """The same options for every system: only what the original service also understood."""
        params = {"format": self.format, "width": str(self.width)}
        if self.quality is not None:
            params["quality"] = str(self.quality)
        return params

    def at_quality(self, quality: int) -> Cell:
        return msgspec.structs.replace(self, quality=quality)


class MatrixSpec(msgspec.Struct, frozen=True):
    images: tuple[str, ...]
    formats: tuple[str, ...]
    widths: tuple[int, ...]
    quality: int  # every lossy cell's quality
    seconds: float  # target length of one throughput measurement; the image count is sized from it
    repeats: int
    concurrency: int
    ceiling_widths: tuple[int, ...] = (320,)  # where the ceiling is measured (its target is at 320 wide)
    min_images: int = 2  # slow cells (AVIF at 1600) still get this many images per measurement
    cpu_rounds: int = 12  # interleaved one-at-a-time rounds for CPU per image (fewer for slow cells)
    cpu_budget_seconds: float = 5.0  # ...or fewer once this long has passed on one cell (all systems)
    sweep_qualities: tuple[int, ...] = (40, 55, 65, 75, 85, 95)
    sweep_widths: tuple[int, ...] = (800,)
    sweep_formats: tuple[str, ...] = ("jpeg", "webp", "avif")
    scaling_cells: tuple[str, ...] = ("4k/jpeg/q75/w320", "1080p/webp/q75/w800")
    scaling_seconds: float = 3.0  # each 1- or 2-core measurement: short windows only measure start-up
    phases: tuple[str, ...] = ("cpu", "throughput", "sweep", "scaling", "batch")  # calibration always runs
    batch_image: str = "batch"
    batch_grids: int = 8  # 3x3 grids per batch measurement, shared out among the clients
    batch_concurrency: tuple[int, ...] = (1,)  # clients, each sending its grids one after another


FULL = MatrixSpec(
    ("4k", "1080p", "alpha"),
    ("jpeg", "png", "webp", "avif"),
    (320, 800, 1600),
    75,
    seconds=0.6,
    repeats=3,
    concurrency=4,
)
QUICK = MatrixSpec(
    ("4k", "alpha"),
    ("jpeg", "webp", "avif"),
    (320,),
    75,
    seconds=1.0,
    repeats=2,
    concurrency=4,
    cpu_rounds=6,
    cpu_budget_seconds=2.0,
    sweep_qualities=(50, 75, 90),
    sweep_formats=("jpeg", "webp"),
    scaling_cells=("4k/jpeg/q75/w320",),
    batch_grids=4,
)


def cells(spec: MatrixSpec) -> list[Cell]:
    return [
        Cell(image, fmt, None if fmt in LOSSLESS else spec.quality, width)
        for image, fmt, width in itertools.product(spec.images, spec.formats, spec.widths)
    ]


def sweep_cells(spec: MatrixSpec) -> list[Cell]:
    """Every (image, lossy format, sweep width) at every sweep quality."""
    return [
        Cell(image, fmt, q, width)
        for image, fmt, width, q in itertools.product(
            spec.images, spec.sweep_formats, spec.sweep_widths, spec.sweep_qualities
        )
        if fmt not in LOSSLESS
    ]


def parse_key(key: str) -> Cell:
    image, fmt, q, w = key.split("/")
    return Cell(image, fmt, None if q == "q-" else int(q[1:]), int(w[1:]))


def load_shape(spec: MatrixSpec, images_per_second: float, workers: int) -> tuple[int, int]:
    """(images, concurrency) of one throughput measurement: about `seconds` of work at the expected
    rate, a multiple of both the worker count and the client count so every worker and every client
    gets the same share (hey gives each client n/c requests, and the run ends with all busy). A slow
    cell (fewer images in `seconds` than clients: AVIF at 1600) runs one request per worker at a
    time, at least `min_images`."""
    wanted = images_per_second * spec.seconds
    clients = max(spec.concurrency, 1)
    if wanted < clients:
        clients = max(workers, 1)
    step = math.lcm(max(workers, 1), clients)
    return max(step, math.ceil(max(wanted, spec.min_images) / step) * step), clients


def rotation(systems: list[str], repeat: int) -> list[str]:
    """The order systems run in within one repeat, rotated each repeat: whatever drifts during a
    cell (a neighbour's load, turbo, a cache) does not always land on the same system."""
    if not systems:
        return []
    k = repeat % len(systems)
    return systems[k:] + systems[:k]
