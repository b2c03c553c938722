"""Side-by-side runs: for every repeat and every cell, the ceiling, the service and the peer
measured back to back on the same number of images, so each ratio compares numbers taken under
the same machine conditions; then the batch case."""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
from tqdm import tqdm

from service.cpu import usable_cpus

from . import batch as batch_case
from .batch import BatchRun
from .ceiling import Ceiling, CeilingRun
from .load import LoadResult, multipart_body, run_hey
from .matrix import CORPUS, Cell, MatrixSpec, cells, images_per_measurement, rotation
from .procs import Meter, Noise, cpu_seconds
from .targets import PeerTarget, ServiceTarget, Target

# A cell during which other programs used more than this many cores is measured again, once; at
# most RETRY_SHARE of all cells are, so a machine busy with others for long cannot double the run.
NOISE_LIMIT_CORES = 0.15
RETRY_SHARE = 0.25


class SystemRun(msgspec.Struct, frozen=True):
    load: LoadResult
    cpu_seconds_per_image: float | None  # the whole stack (None when it runs elsewhere: --url)
    server_cpu_seconds_per_image: float | None  # its HTTP side: uvicorn's process / PM2's daemon
    bytes_in: int
    bytes_out: int
    noise: Noise


class CeilingMeasure(msgspec.Struct, frozen=True):
    run: CeilingRun
    noise: Noise


class CellRun(msgspec.Struct, frozen=True):
    cell: Cell
    repeat: int
    images: int
    order: list[str]
    ceiling: CeilingMeasure | None
    service: SystemRun | None
    peer: SystemRun | None
    noisy_attempts: int  # earlier attempts thrown away because other programs used the CPU


class Calibration(msgspec.Struct, frozen=True):
    cell: Cell
    seconds_per_image_one_core: float | None
    images: int


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
    service_url: str | None
    service_started_here: bool
    peer_url: str | None
    peer_started_here: bool
    peer_versions: str | None
    peak_rss_service_bytes: int | None
    peak_rss_peer_bytes: int | None
    calibration: list[Calibration]
    cells: list[CellRun]
    batch: list[BatchRun]


def machine() -> Machine:
    import pyvips

    def field(path: str, key: str) -> str:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
        return "unknown"

    hypervisor = "none"
    if "hypervisor" in field("/proc/cpuinfo", "flags"):
        hypervisor = "yes (virtual machine)"
    memory = int(field("/proc/meminfo", "MemTotal").split()[0]) / 2**20
    return Machine(field("/proc/cpuinfo", "model name"), usable_cpus(), hypervisor, round(memory, 1),
                   platform.python_version(), f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
                   platform.release())


def _output_bytes(url: str, content: bytes, content_type: str) -> int:
    """One request outside any measurement: warms the codec and records the answer's size."""
    r = httpx.post(url, content=content, headers={"Content-Type": content_type}, timeout=300)
    r.raise_for_status()
    return len(r.content)


def _http_rate(url: str, body: Path, content_type: str, concurrency: int) -> float:
    """Without a ceiling to calibrate on (`bench service --url ...`): a short burst tells the rate."""
    load = run_hey(url, body, content_type, concurrency, concurrency)
    return load.images_per_second or 0.1


def _measure_http(target: Target, url: str, body: Path, content_type: str, images: int, concurrency: int,
                  bytes_in: int, bytes_out: int, extra_pids: list[int]) -> SystemRun:
    server = target.server_pids()
    meter = Meter(extra_pids)
    cpu0 = target.cpu_seconds() if target.started else None
    server0 = cpu_seconds(server) if target.started else None
    load = run_hey(url, body, content_type, images, concurrency)
    noise = meter.stop()
    per_image = server_per_image = None
    if cpu0 is not None and server0 is not None and load.ok:
        per_image = (target.cpu_seconds() - cpu0) / load.ok
        server_per_image = (cpu_seconds(server) - server0) / load.ok
    return SystemRun(load, per_image, server_per_image, bytes_in, bytes_out, noise)


def compare(spec: MatrixSpec, command: str, service_url: str | None = None, peer_url: str | None = None,
            with_ceiling: bool = True, with_peer: bool = True, with_service: bool = True,
            progress: bool = True) -> Results:
    t0 = time.time()
    image = (CORPUS / spec.image).read_bytes()
    batch_image = (CORPUS / spec.batch_image).read_bytes()
    matrix = cells(spec)
    service = ServiceTarget(service_url) if with_service else None
    peer = PeerTarget(peer_url) if with_peer and (peer_url or PeerTarget.available()) else None
    ceiling = Ceiling() if with_ceiling else None
    workers = ceiling.processes if ceiling else usable_cpus()
    peer_versions = peer.versions() if peer and peer.started else None
    runs: list[CellRun] = []
    batches: list[BatchRun] = []
    calibration: list[Calibration] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            raw = work / spec.image
            raw.write_bytes(image)
            bodies = {c.key: multipart_body(image, spec.image, c.params(), work) for c in matrix}
            urls: dict[str, dict[str, tuple[str, Path, str]]] = {c.key: {} for c in matrix}
            for c in matrix:
                if service:
                    urls[c.key]["service"] = (str(httpx.URL(service.url + "/api/convert", params=c.params())),
                                              raw, "image/jpeg")
                if peer:
                    urls[c.key]["peer"] = (peer.url + "/api/process", *bodies[c.key])
            systems = [name for name, on in (("ceiling", ceiling), ("service", service), ("peer", peer)) if on]
            http_systems = {"service": service, "peer": peer}
            batch_levels = spec.batch_concurrency if service else ()
            batch_steps = sum(len(batch_case.modes_for(c, peer is not None)) for c in batch_levels)
            bar = tqdm(total=len(matrix) * (1 + spec.repeats) + batch_steps * (1 + spec.repeats),
                       disable=not progress, unit="step", dynamic_ncols=True)

            # Calibrate (and warm up) every cell once: how many images one measurement converts,
            # and how large each system's answer is.
            images: dict[str, int] = {}
            sizes: dict[tuple[str, str], int] = {}
            for cell in matrix:
                bar.set_description(f"calibrate {cell.key}")
                per_image = None
                if ceiling:
                    per_image = ceiling.calibrate(cell, image)
                    rate = ceiling.processes / per_image
                for name, target in http_systems.items():
                    if target:
                        url, body, ctype = urls[cell.key][name]
                        sizes[(name, cell.key)] = _output_bytes(url, body.read_bytes(), ctype)
                if not ceiling:
                    name = "service" if service else "peer"
                    rate = _http_rate(*urls[cell.key][name], spec.concurrency)
                images[cell.key] = images_per_measurement(spec, rate, workers)
                calibration.append(Calibration(cell, per_image, images[cell.key]))
                bar.update()

            extra = peer.pids() if peer else []
            retries_left = int(RETRY_SHARE * len(matrix) * spec.repeats)
            for repeat in range(spec.repeats):
                for cell in matrix:
                    bar.set_description(f"r{repeat + 1} {cell.key}")
                    order = rotation(systems, repeat)
                    noisy = 0
                    while True:
                        out: dict[str, object] = {}
                        for name in order:
                            if name == "ceiling":
                                meter = Meter(extra)
                                measured = ceiling.measure(cell, image, images[cell.key])  # type: ignore[union-attr]
                                out[name] = CeilingMeasure(measured, meter.stop())
                            else:
                                target = http_systems[name]
                                url, body, ctype = urls[cell.key][name]
                                out[name] = _measure_http(target, url, body, ctype, images[cell.key],  # type: ignore[arg-type]
                                                          spec.concurrency, len(image), sizes[(name, cell.key)], extra)
                        worst = max(o.noise.foreign_cores for o in out.values())  # type: ignore[attr-defined]
                        if worst <= NOISE_LIMIT_CORES or noisy >= 1 or retries_left <= 0:
                            break
                        noisy += 1
                        retries_left -= 1
                        bar.set_description(f"r{repeat + 1} {cell.key} (again: {worst:.2f} foreign cores)")
                    runs.append(CellRun(cell, repeat, images[cell.key], order, out.get("ceiling"),  # type: ignore[arg-type]
                                        out.get("service"), out.get("peer"), noisy))  # type: ignore[arg-type]
                    bar.update()

            if service:
                batches = _batch(spec, service, peer, batch_image, extra, bar)
            bar.close()
        return Results(
            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), seconds=round(time.time() - t0, 1),
            command=command, spec=spec, machine=machine(), load_generator="hey (Debian package), -n N -c C",
            noise_limit_cores=NOISE_LIMIT_CORES, ceiling_processes=ceiling.processes if ceiling else None,
            service_url=service.url if service else None, service_started_here=bool(service and service.started),
            peer_url=peer.url if peer else None, peer_started_here=bool(peer and peer.started),
            peer_versions=peer_versions,
            peak_rss_service_bytes=service.peak_rss() if service and service.started else None,
            peak_rss_peer_bytes=peer.peak_rss() if peer and peer.started else None,
            calibration=calibration, cells=runs, batch=batches,
        )
    finally:
        if ceiling:
            ceiling.close()
        if service:
            service.stop()
        if peer:
            peer.stop()


def _batch(spec: MatrixSpec, service: Target, peer: Target | None, image: bytes, extra: list[int],
           bar: tqdm) -> list[BatchRun]:
    targets = {"service": service, "peer": peer}
    runs: list[BatchRun] = []
    levels = [(c, batch_case.modes_for(c, peer is not None)) for c in spec.batch_concurrency]
    for concurrency, modes in levels:  # warm-up: one grid per mode, not recorded
        for mode in modes:
            bar.set_description(f"batch warm-up c{concurrency} {mode.kind} {mode.system}")
            batch_case.measure(mode, targets[mode.system], image, spec.batch_image, 1, 1, -1, extra)  # type: ignore[arg-type]
            bar.update()
    for repeat in range(spec.repeats):
        for concurrency, modes in levels:
            for mode in rotation([m.name for m in modes], repeat):
                m = next(x for x in modes if x.name == mode)
                bar.set_description(f"r{repeat + 1} batch c{concurrency} {m.kind} {m.system}")
                runs.append(batch_case.measure(m, targets[m.system], image, spec.batch_image,  # type: ignore[arg-type]
                                               concurrency, spec.batch_grids, repeat, extra))
                bar.update()
    return runs

