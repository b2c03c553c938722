"""Where the service's own time goes under load: py-spy samples the server process (not the
libvips workers, whose time is the ceiling's) while hey drives one cell, and the per-process CPU
split shows how much of each image is spent outside libvips."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import msgspec

from .. import corpus, procs
from ..load import LoadResult, run_hey
from ..matrix import Cell
from ..targets import ServiceTarget


class Frame(msgspec.Struct, frozen=True):
    share: float
    frame: str


class Profile(msgspec.Struct, frozen=True):
    cell: Cell
    load: LoadResult
    cpu_ms_per_image_server: float
    cpu_ms_per_image_workers: float
    cpu_ms_per_image_generator: float
    concurrency: int
    top_self: list[Frame]
    top_service_frames: list[Frame]


def _py_spy() -> str:
    path = Path(sys.executable).parent / "py-spy"
    found = str(path) if path.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is missing: pip install py-spy (it is in the 'bench' extra)")
    return found


def summarize_raw(text: str, top: int = 12) -> tuple[list[Frame], list[Frame]]:
    """py-spy's raw (collapsed stack) format: 'frame;frame;frame count' per line."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return [], []
    top_self = [Frame(round(n / total, 3), f) for f, n in own.most_common(top)]
    ours = [
        Frame(round(n / total, 3), f)
        for f, n in inclusive.most_common()
        if "service/" in f or "litestar/" in f or "uvicorn/" in f
    ][:top]
    return top_self, ours


def profile(cell: Cell, seconds: float = 8.0, concurrency: int = 4) -> Profile:
    corpus.prepare([cell.image])
    svc = ServiceTarget()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "spy.txt"
            request = svc.request(cell, Path(tmp))
            # A request count that lasts about `seconds` at the rate a short burst shows.
            burst = run_hey(request, 4 * concurrency, concurrency)
            count = max(concurrency, int(burst.images_per_second * seconds) // concurrency * concurrency)
            assert svc.proc is not None
            server = [svc.proc.pid]
            workers = [p for p in procs.tree(svc.proc.pid) if p != svc.proc.pid]
            before_server, before_workers = procs.cpu_seconds(server), procs.cpu_seconds(workers)
            result: list[LoadResult] = []
            load = threading.Thread(target=lambda: result.append(run_hey(request, count, concurrency)))
            load.start()
            subprocess.run(
                [
                    _py_spy(),
                    "record",
                    "-p",
                    str(svc.proc.pid),
                    "-d",
                    str(int(seconds - 2)),
                    "-r",
                    "200",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "--nonblocking",
                ],
                capture_output=True,
                check=False,
            )
            load.join()
            run = result[0]
            server_ms = (procs.cpu_seconds(server) - before_server) / max(run.ok, 1) * 1000
            worker_ms = (procs.cpu_seconds(workers) - before_workers) / max(run.ok, 1) * 1000
            top_self, ours = summarize_raw(out.read_text() if out.exists() else "")
            return Profile(
                cell,
                run,
                round(server_ms, 2),
                round(worker_ms, 2),
                round(run.generator_cpu_seconds / max(run.ok, 1) * 1000, 2),
                concurrency,
                top_self,
                ours,
            )
    finally:
        svc.stop()


def render(p: Profile) -> str:
    lines = [
        f"Profile of {p.cell.key}: {p.load.images_per_second:.1f} img/s at concurrency {p.concurrency}, "
        f"CPU per image: server process {p.cpu_ms_per_image_server} ms, libvips workers "
        f"{p.cpu_ms_per_image_workers} ms, load generator {p.cpu_ms_per_image_generator} ms.",
        "",
        "| share of server samples (self) | frame |",
        "|---|---|",
        *[f"| {f.share:.1%} | `{f.frame[:110]}` |" for f in p.top_self],
        "",
        "| share of server samples (inclusive) | service / framework frame |",
        "|---|---|",
        *[f"| {f.share:.1%} | `{f.frame[:110]}` |" for f in p.top_service_frames],
    ]
    return "\n".join(lines)
