"""Side-by-side runs: for every repeat and every cell, the ceiling, the service and the peer
measured back to back, so each ratio compares numbers taken under the same machine conditions."""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
from tqdm import tqdm

from .ceiling import Ceiling
from .load import LoadResult, multipart_body, run_hey
from .matrix import CORPUS, Cell, MatrixSpec, cells
from .targets import PeerTarget, ServiceTarget, Target


class SystemRun(msgspec.Struct, frozen=True):
    load: LoadResult
    cpu_seconds_per_image: float | None
    bytes_in: int
    bytes_out: int


class CellRun(msgspec.Struct, frozen=True):
    cell: Cell
    repeat: int
    seconds: float
    ceiling_images_per_second: float | None
    service: SystemRun | None
    peer: SystemRun | None


class BatchRun(msgspec.Struct, frozen=True):
    repeat: int
    batch_seconds: float
    singles_service_seconds: float
    singles_peer_seconds: float | None
    outputs: int


class Machine(msgspec.Struct, frozen=True):
    cpu: str
    cores: int
    python: str
    libvips: str
    kernel: str


class Results(msgspec.Struct, frozen=True):
    started: str
    seconds: float
    command: str
    spec: MatrixSpec
    machine: Machine
    service_url: str
    peer_url: str | None
    peak_rss_service_bytes: int | None
    peak_rss_peer_bytes: int | None
    cells: list[CellRun]
    batch: list[BatchRun]


def machine() -> Machine:
    import pyvips

    from service.cpu import usable_cpus

    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return Machine(model, usable_cpus(), platform.python_version(),
                   f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}", platform.release())


def window(spec: MatrixSpec, seconds_per_image: float, cores: int) -> float:
    """Long enough for min_images at full parallelism, so slow cells are not a count of two."""
    return round(min(spec.max_seconds, max(spec.seconds, spec.min_images * seconds_per_image / cores)), 1)


def _time_one(cell: Cell, image: bytes) -> float:
    """One conversion's time as a service worker does it (one libvips thread), to size windows."""
    from service.imaging.options import parse_options
    from service.imaging.pipeline import convert

    started = time.perf_counter()
    convert(image, parse_options(cell.params()))
    return time.perf_counter() - started


def single_image_seconds(cells_: list[Cell], image: bytes) -> dict[str, float]:
    import concurrent.futures as cf
    import multiprocessing

    from service.imaging.worker import init_worker

    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker) as ex:
        return {c.key: ex.submit(_time_one, c, image).result() for c in cells_}


def _measure(target: Target, url: str, body: Path, content_type: str, spec: MatrixSpec,
             bytes_in: int, bytes_out: int, seconds: float) -> SystemRun:
    cpu_before = target.cpu_seconds()
    load = run_hey(url, body, content_type, seconds, spec.concurrency)
    cpu = target.cpu_seconds() - cpu_before if target.started else None
    per_image = cpu / load.ok if cpu is not None and load.ok else None
    return SystemRun(load, per_image, bytes_in, bytes_out)


def _output_bytes(url: str, content: bytes, content_type: str) -> int:
    r = httpx.post(url, content=content, headers={"Content-Type": content_type}, timeout=120)
    r.raise_for_status()
    return len(r.content)


def _batch_case(service: Target, peer: Target | None, image: bytes, repeat: int) -> BatchRun:
    """One 3x3 /api/batch against the nine single requests the original UI sent for the grid
    (three at a time, as its page did), each repeat timed back to back."""
    widths, qualities = (320, 800, 1600), (50, 75, 90)
    files = {"image": ("photo.jpg", image, "image/jpeg")}
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        r = client.post(f"{service.url}/api/batch", params={"widths": "320,800,1600", "qualities": "50,75,90",
                                                             "format": "jpeg"}, files=files)
        r.raise_for_status()
        batch_seconds = time.perf_counter() - started

        def singles(url: str, path: str) -> float:
            import concurrent.futures as cf

            grid = [(w, q) for w in widths for q in qualities]
            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(3) as ex:
                for resp in ex.map(lambda wq: client.post(url + path, files=files, data={
                        "width": str(wq[0]), "quality": str(wq[1]), "format": "jpeg"}), grid):
                    resp.raise_for_status()
            return time.perf_counter() - t0

        service_singles = singles(service.url, "/api/process")
        peer_singles = singles(peer.url, "/api/process") if peer else None
    import io
    import zipfile

    outputs = len(zipfile.ZipFile(io.BytesIO(r.content)).namelist())
    return BatchRun(repeat, batch_seconds, service_singles, peer_singles, outputs)


def compare(spec: MatrixSpec, command: str, service_url: str | None = None, peer_url: str | None = None,
            with_ceiling: bool = True, with_peer: bool = True, with_service: bool = True,
            batch_image: str = "TwoWings.jpg", progress: bool = True) -> Results:
    t0 = time.time()
    image = (CORPUS / spec.image).read_bytes()
    matrix = cells(spec)
    service = ServiceTarget(service_url) if with_service or service_url else None
    peer = PeerTarget(peer_url) if with_peer and (peer_url or PeerTarget.available()) else None
    ceiling = Ceiling() if with_ceiling else None
    runs: list[CellRun] = []
    batches: list[BatchRun] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            raw = work / spec.image
            raw.write_bytes(image)
            bodies = {c.key: multipart_body(image, spec.image, c.params(), work) for c in matrix}
            sizes: dict[tuple[str, str], int] = {}
            cores = machine().cores
            single = single_image_seconds(matrix, image)
            seconds = {c.key: window(spec, single[c.key], cores) for c in matrix}
            steps = spec.repeats * len(matrix) + (spec.repeats if service else 0)
            bar = tqdm(total=steps, disable=not progress, unit="cell", dynamic_ncols=True)
            for repeat in range(spec.repeats):
                for cell in matrix:
                    bar.set_description(f"r{repeat + 1} {cell.key}")
                    span = seconds[cell.key]
                    ceiling_ips = ceiling.measure(cell, image, span, warmup_margin=max(1.0, 2 * single[cell.key])) if ceiling else None
                    service_run = peer_run = None
                    if service:
                        url = str(httpx.URL(service.url + "/api/convert", params=cell.params()))
                        if ("service", cell.key) not in sizes:
                            sizes[("service", cell.key)] = _output_bytes(url, image, "image/jpeg")
                        service_run = _measure(service, url, raw, "image/jpeg", spec, len(image),
                                               sizes[("service", cell.key)], span)
                    if peer:
                        body, ctype = bodies[cell.key]
                        if ("peer", cell.key) not in sizes:
                            sizes[("peer", cell.key)] = _output_bytes(peer.url + "/api/process", body.read_bytes(), ctype)
                        peer_run = _measure(peer, peer.url + "/api/process", body, ctype, spec, len(image),
                                            sizes[("peer", cell.key)], span)
                    runs.append(CellRun(cell, repeat, span, ceiling_ips, service_run, peer_run))
                    bar.update()
                if service:
                    bar.set_description(f"r{repeat + 1} batch 3x3")
                    batches.append(_batch_case(service, peer, (CORPUS / batch_image).read_bytes(), repeat))
                    bar.update()
            bar.close()
        return Results(
            started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), seconds=round(time.time() - t0, 1),
            command=command, spec=spec, machine=machine(),
            service_url=service.url if service else "", peer_url=peer.url if peer else None,
            peak_rss_service_bytes=service.peak_rss() if service and service.started else None,
            peak_rss_peer_bytes=peer.peak_rss() if peer and peer.started else None,
            cells=runs, batch=batches,
        )
    finally:
        if ceiling:
            ceiling.close()
        if service:
            service.stop()
        if peer:
            peer.stop()
