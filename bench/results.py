"""What one bench run records (results.json): the Structs every phase fills and the report reads."""

from __future__ import annotations

import msgspec

from .matrix import Cell, MatrixSpec
from .procs import Noise


class Measure(msgspec.Struct, frozen=True):
    """One system's throughput measurement of one cell in one repeat (hey -n N -c C, or the
    ceiling's processes converting N images)."""

    images: int
    ok: int
    errors: int
    seconds: float  # first request's start to last answer's end
    images_per_second: float
    p50_ms: float | None  # None for the ceiling (no requests)
    p99_ms: float | None
    cpu_seconds_per_image: float | None  # the whole process tree during the measurement
    server_cpu_seconds_per_image: float | None  # the HTTP side alone, where it is a process of its own
    generator_cpu_seconds: float | None  # hey's
    noise: Noise


class CellRun(msgspec.Struct, frozen=True):
    cell: Cell
    repeat: int
    images: int
    concurrency: int
    order: list[str]
    systems: dict[str, Measure]
    noisy_attempts: int  # earlier attempts thrown away because other programs used the CPU


class Output(msgspec.Struct, frozen=True):
    """One system's answer for a cell (the warm-up request): what it made and how good it is."""

    cell: Cell
    system: str
    bytes: int
    width: int
    height: int
    score: float
    seconds: float  # that one request, end to end


class CpuRound(msgspec.Struct, frozen=True):
    """CPU per image of every system on one cell, one request at a time, interleaved."""

    cell: Cell
    rounds: int
    cpu_ms: dict[str, list[float]]  # per system, one value per round (whole process tree)
    noise: Noise


class SweepPoint(msgspec.Struct, frozen=True):
    cell: Cell  # the quality is the sweep's
    system: str
    bytes: int
    score: float


class ScalingRun(msgspec.Struct, frozen=True):
    cell: Cell
    system: str
    cores: int
    repeat: int
    images: int
    images_per_second: float
    errors: int
    noise: Noise


class BatchRun(msgspec.Struct, frozen=True):
    repeat: int
    concurrency: int
    mode: str
    grids: int
    seconds: float
    seconds_per_grid: float
    errors: int
    outputs_per_grid: int
    client_cpu_seconds: float  # this process's threads: the HTTP clients
    target_cpu_seconds_per_grid: float | None
    noise: Noise


class Machine(msgspec.Struct, frozen=True):
    cpu: str
    cores: int
    hypervisor: str
    memory_gib: float
    python: str
    libvips: str
    kernel: str


class Results(msgspec.Struct, frozen=True):
    started: str
    seconds: float
    command: str
    spec: MatrixSpec
    machine: Machine
    load_generator: str
    noise_limit_cores: float
    ceiling_processes: int | None
    systems: list[str]  # in the order of the tables
    versions: dict[str, str]
    peak_rss_bytes: dict[str, int]
    cells: list[CellRun]
    outputs: list[Output]
    cpu: list[CpuRound]
    sweep: list[SweepPoint]
    scaling: list[ScalingRun]
    batch: list[BatchRun]
    phase_seconds: dict[str, float]
