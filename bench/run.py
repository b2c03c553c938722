"""One bench run, phase by phase, every system measured side by side in each phase so each ratio
compares numbers taken under the same machine conditions:

  calibrate   one request per system and cell: output bytes, size and quality score; the image count
  cpu         CPU per image, one request at a time, systems interleaved (the robust figure)
  throughput  hey against each system (and the ceiling's processes), the order rotated per repeat
  sweep       bytes and score over a range of qualities (the bytes-vs-score curves)
  scaling     1 core vs 2 cores (taskset) on a few cells
  batch       one 3x3 /api/batch against nine single requests
"""

from __future__ import annotations

import contextlib
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
from tqdm import tqdm  # type: ignore[import-untyped]

from service.cpu import usable_cpus

from . import batch as batch_case
from . import corpus, interleave, quality, scaling, sweep
from .load import run_hey
from .matrix import Cell, MatrixSpec, cells, load_shape, parse_key, rotation, sweep_cells
from .procs import Meter, cpu_seconds
from .results import BatchRun, CellRun, CpuRound, Machine, Measure, Output, Results, ScalingRun, SweepPoint
from .systems import Systems
from .targets import Target

# A cell during which other programs used more than this many cores is measured again, once; at
# most RETRY_SHARE of all cells are, so a machine busy with others for long cannot double the run.
NOISE_LIMIT_CORES = 0.15
RETRY_SHARE = 0.1


def machine() -> Machine:
    import pyvips

    def field(path: str, key: str) -> str:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
        return "unknown"

    hypervisor = "yes (virtual machine)" if "hypervisor" in field("/proc/cpuinfo", "flags") else "none"
    memory = int(field("/proc/meminfo", "MemTotal").split()[0]) / 2**20
    return Machine(
        field("/proc/cpuinfo", "model name"),
        usable_cpus(),
        hypervisor,
        round(memory, 1),
        platform.python_version(),
        f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
        platform.release(),
    )


class Run:
    """The state shared by the phases: the systems, a scratch directory for request bodies, one
    HTTP client for single requests, the progress display and what has been measured so far."""

    def __init__(self, spec: MatrixSpec, systems: Systems, work: Path, progress: bool) -> None:
        self.spec, self.systems, self.work, self.progress = spec, systems, work, progress
        self.client = httpx.Client(timeout=300)
        self.matrix = cells(spec)
        self.outputs: list[Output] = []
        self.images: dict[str, int] = {}  # cell key -> images per throughput measurement
        self.clients: dict[str, int] = {}  # cell key -> concurrent requests in it
        self.rates: dict[str, float] = {}  # cell key -> expected images per second
        self.phase_seconds: dict[str, float] = {}
        self.retries_left = int(RETRY_SHARE * len(self.matrix) * spec.repeats)

    @contextlib.contextmanager
    def phase(self, name: str, steps: int) -> Iterator[tqdm]:
        t0 = time.monotonic()
        bar = tqdm(total=steps, desc=name, disable=not self.progress, unit="step", dynamic_ncols=True, leave=True)
        try:
            yield bar
        finally:
            bar.close()
            self.phase_seconds[name] = round(time.monotonic() - t0, 1)

    def calibrate(self) -> None:
        """Warm every system up on every cell, keep its answer's size and score, and size the
        throughput measurements from the ceiling (or the service's single request)."""
        workers = self.systems.workers
        with self.phase("calibrate", len(self.matrix)) as bar:
            for cell in self.matrix:
                bar.set_description(f"calibrate {cell.key}")
                times = [t for name in self.systems.http if (t := self._output(cell, name)) is not None]
                if self._with_ceiling(cell):
                    one = self.systems.ceiling.calibrate(cell, corpus.read(cell.image))  # type: ignore[union-attr]
                else:  # one request's time is about one image on one worker
                    one = times[0] if times else 1.0
                self.rates[cell.key] = workers / max(one, 1e-6)
                self.images[cell.key], self.clients[cell.key] = load_shape(self.spec, self.rates[cell.key], workers)
                bar.update()

    def _with_ceiling(self, cell: Cell) -> bool:
        """The ceiling runs only at the widths whose target uses it (it costs as much as the service)."""
        return self.systems.ceiling is not None and cell.width in self.spec.ceiling_widths

    def _output(self, cell: Cell, name: str) -> float | None:
        """One request: its answer's size and score are kept; a failure is reported and left out."""
        t0 = time.perf_counter()
        try:
            data = self.systems.http[name].request(cell, self.work).send(self.client)
        except httpx.HTTPError as exc:
            tqdm.write(f"{name} failed on {cell.key}: {exc!r:.200}")
            return None
        seconds = time.perf_counter() - t0
        score, width, height = quality.score_bytes(data, cell.image)
        self.outputs.append(Output(cell, name, len(data), width, height, round(score, 5), round(seconds, 4)))
        return seconds

    def cpu(self) -> list[CpuRound]:
        out = []
        with self.phase("cpu per image (interleaved)", len(self.matrix)) as bar:
            for cell in self.matrix:
                bar.set_description(f"cpu {cell.key}")
                requests = {n: (t, t.request(cell, self.work)) for n, t in self.systems.measured_http().items()}
                if requests:
                    out.append(
                        interleave.measure(
                            cell,
                            requests,
                            self.spec.cpu_rounds,
                            self.spec.cpu_budget_seconds,
                            self.systems.extra_pids(),
                            self.client,
                        )
                    )
                bar.update()
        return out

    def throughput(self) -> list[CellRun]:
        runs = []
        with self.phase("throughput", len(self.matrix) * self.spec.repeats) as bar:
            for repeat in range(self.spec.repeats):
                for cell in self.matrix:
                    bar.set_description(f"r{repeat + 1} {cell.key}")
                    runs.append(self._cell_repeat(cell, repeat, bar))
                    bar.update()
        return runs

    def _cell_repeat(self, cell: Cell, repeat: int, bar: tqdm) -> CellRun:
        """Every system on one cell, in rotated order; once more if others loaded the machine."""
        names = [n for n in self.systems.names() if n != "ceiling" or self._with_ceiling(cell)]
        order = rotation(names, repeat)
        noisy = 0
        while True:
            out = {name: self._measure(cell, name) for name in order}
            worst = max(m.noise.foreign_cores for m in out.values())
            if worst <= NOISE_LIMIT_CORES or noisy >= 1 or self.retries_left <= 0:
                return CellRun(cell, repeat, self.images[cell.key], self.clients[cell.key], order, out, noisy)
            noisy += 1
            self.retries_left -= 1
            bar.set_description(f"r{repeat + 1} {cell.key} (again: {worst:.2f} foreign cores)")

    def _measure(self, cell: Cell, name: str) -> Measure:
        images = self.images[cell.key]
        meter = Meter(self.systems.extra_pids())
        if name == "ceiling":
            assert self.systems.ceiling is not None
            c = self.systems.ceiling.measure(cell, corpus.read(cell.image), images)
            return Measure(
                c.images,
                c.images,
                0,
                c.seconds,
                c.images_per_second,
                None,
                None,
                c.cpu_seconds_per_image,
                None,
                None,
                meter.stop(),
            )
        target = self.systems.http[name]
        request = target.request(cell, self.work)
        started = target.started
        cpu0 = target.cpu_seconds() if started else 0.0
        server0 = cpu_seconds(target.server_pids()) if started else 0.0
        load = run_hey(request, images, self.clients[cell.key])
        noise = meter.stop()
        ok = max(load.ok, 1)
        per_image = (target.cpu_seconds() - cpu0) / ok if started else None
        server = (cpu_seconds(target.server_pids()) - server0) / ok if started and target.server_pids() else None
        return Measure(
            load.requests,
            load.ok,
            load.errors,
            load.seconds,
            load.images_per_second,
            load.p50_ms,
            load.p99_ms,
            per_image,
            server,
            load.generator_cpu_seconds,
            noise,
        )

    def sweep(self) -> list[SweepPoint]:
        points: list[SweepPoint] = []
        todo = sweep_cells(self.spec)
        with self.phase("bytes vs score sweep", len(todo)) as bar:
            for cell in todo:
                bar.set_description(f"sweep {cell.key}")
                points += sweep.measure(cell, self.systems.http, self.work, self.client)
                bar.update()
        return points

    def scaling(self) -> list[ScalingRun]:
        runs: list[ScalingRun] = []
        keys = [k for k in self.spec.scaling_cells if k in self.images]
        targets = self.systems.measured_http()
        longer = msgspec.structs.replace(self.spec, seconds=self.spec.scaling_seconds)
        with self.phase("scaling 1 vs 2 cores", len(keys) * self.spec.repeats * len(targets)) as bar:
            for repeat in range(self.spec.repeats):
                for key in keys:
                    cell = parse_key(key)
                    for name in rotation(list(targets), repeat):
                        bar.set_description(f"scaling r{repeat + 1} {key} {name}")
                        request = targets[name].request(cell, self.work)
                        images, clients = load_shape(longer, self.rates[key], self.systems.workers)
                        extra = self.systems.extra_pids()
                        runs += scaling.measure(cell, name, targets[name], request, images, clients, repeat, extra)
                        bar.update()
        return runs

    def batch(self) -> list[BatchRun]:
        """One 3x3 /api/batch against nine singles (to the service, and to the original), warmed
        up once per mode, the modes' order rotated per repeat."""
        targets = {n: t for n, t in self.systems.http.items() if n in ("service", "original")}
        if "service" not in targets:
            return []
        levels = [(c, batch_case.modes_for(c, "original" in targets)) for c in self.spec.batch_concurrency]
        runs: list[BatchRun] = []
        with self.phase("batch 3x3", sum(len(m) for _, m in levels) * (1 + self.spec.repeats)) as bar:
            for _, modes in levels:  # warm-up: one grid per mode, not recorded
                for mode in modes:
                    self._batch_once(mode, targets[mode.system], 1, 1, -1)
                    bar.update()
            for repeat in range(self.spec.repeats):
                for concurrency, modes in levels:
                    for mode_name in rotation([m.name for m in modes], repeat):
                        mode = next(m for m in modes if m.name == mode_name)
                        bar.set_description(f"batch r{repeat + 1} c{concurrency} {mode.kind} {mode.system}")
                        grids = self.spec.batch_grids
                        runs.append(self._batch_once(mode, targets[mode.system], concurrency, grids, repeat))
                        bar.update()
        return runs

    def _batch_once(self, mode: batch_case.Mode, target: Target, concurrency: int, grids: int, repeat: int) -> BatchRun:
        image, name = corpus.read(self.spec.batch_image), corpus.IMAGES[self.spec.batch_image].file
        return batch_case.measure(mode, target, image, name, concurrency, grids, repeat, self.systems.extra_pids())


def compare(spec: MatrixSpec, command: str, systems: Systems, progress: bool = True) -> Results:
    """Every phase on the systems given (started by the caller, stopped by it)."""
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(spec, systems, Path(tmp), progress)
        try:
            run.calibrate()
            phases = spec.phases
            cpu = run.cpu() if "cpu" in phases else []
            cells_run = run.throughput() if "throughput" in phases else []
            points = run.sweep() if "sweep" in phases else []
            scale = run.scaling() if "scaling" in phases else []
            batches = run.batch() if "batch" in phases else []
        finally:
            run.client.close()
    return Results(
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
        seconds=round(time.time() - t0, 1),
        command=command,
        spec=spec,
        machine=machine(),
        load_generator="hey (Debian package), -n N -c C",
        noise_limit_cores=NOISE_LIMIT_CORES,
        ceiling_processes=systems.ceiling.processes if systems.ceiling else None,
        systems=systems.names(),
        versions=systems.versions(),
        peak_rss_bytes=systems.peak_rss(),
        cells=cells_run,
        outputs=run.outputs,
        cpu=cpu,
        sweep=points,
        scaling=scale,
        batch=batches,
        phase_seconds=run.phase_seconds,
    )
