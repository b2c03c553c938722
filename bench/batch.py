"""The batch case: one 3x3 `/api/batch` request against the nine single requests for the same grid.

At each concurrency, that many clients each send their share of grids one after another; a client
sends a grid either as one batch request or as nine single requests, one after another (or three
at a time, as the original batch page did). The ratio is the time per grid of the singles over
the time per grid of the batch, both measured at the same concurrency in the same repeat.
"""

from __future__ import annotations

import io
import resource
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import msgspec

from .procs import Meter
from .results import BatchRun
from .targets import Target

WIDTHS = (320, 800, 1600)
QUALITIES = (50, 75, 90)
FORMAT = "jpeg"


class Mode(msgspec.Struct, frozen=True):
    name: str
    system: str  # "service" or "original"
    kind: str  # "batch", "singles", "singles3"


MODES = (
    Mode("service: one /api/batch", "service", "batch"),
    Mode("service: nine /api/convert, one after another", "service", "singles"),
    Mode("original: nine /api/process, one after another", "original", "singles"),
    Mode("service: nine /api/convert, three at a time", "service", "singles3"),
    Mode("original: nine /api/process, three at a time", "original", "singles3"),
)


def grid() -> list[tuple[int, int]]:
    return [(w, q) for w in WIDTHS for q in QUALITIES]


def _grid_sender(mode: Mode, base: str, image: bytes, name: str) -> Callable[[httpx.Client], int]:
    """A function that sends one grid on a client and answers how many outputs came back."""
    if mode.kind == "batch":
        params = {"widths": ",".join(map(str, WIDTHS)), "qualities": ",".join(map(str, QUALITIES)), "format": FORMAT}

        def send_batch(client: httpx.Client) -> int:
            r = client.post(f"{base}/api/batch", params=params, content=image, headers={"Content-Type": "image/jpeg"})
            r.raise_for_status()
            return len(zipfile.ZipFile(io.BytesIO(r.content)).namelist())

        return send_batch

    def one(client: httpx.Client, wq: tuple[int, int]) -> None:
        fields = {"width": str(wq[0]), "quality": str(wq[1]), "format": FORMAT}
        if mode.system == "service":
            r = client.post(f"{base}/api/convert", params=fields, content=image, headers={"Content-Type": "image/jpeg"})
        else:  # the original's contract: multipart upload
            r = client.post(f"{base}/api/process", data=fields, files={"image": (name, image, "image/jpeg")})
        r.raise_for_status()

    if mode.kind == "singles":

        def send_sequential(client: httpx.Client) -> int:
            for wq in grid():
                one(client, wq)
            return len(grid())

        return send_sequential

    def send_three(client: httpx.Client) -> int:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda wq: one(client, wq), grid()))
        return len(grid())

    return send_three


def measure(
    mode: Mode,
    target: Target,
    image: bytes,
    name: str,
    concurrency: int,
    grids: int,
    repeat: int,
    extra_pids: list[int],
) -> BatchRun:
    """`concurrency` clients, each sending ceil(grids / concurrency) grids one after another."""
    per_client = -(-grids // concurrency)
    send = _grid_sender(mode, target.url, image, name)
    errors: list[BaseException] = []
    outputs: list[int] = []
    barrier = threading.Barrier(concurrency + 1)

    def client_loop() -> None:
        with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=3)) as client:
            barrier.wait()
            for _ in range(per_client):
                try:
                    outputs.append(send(client))
                except (httpx.HTTPError, zipfile.BadZipFile) as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    for t in threads:
        t.start()
    cpu0 = target.cpu_seconds() if target.started else None
    meter = Meter(extra_pids)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    noise = meter.stop()
    done = per_client * concurrency
    cpu = (target.cpu_seconds() - cpu0) / done if cpu0 is not None else None
    return BatchRun(
        repeat,
        concurrency,
        mode.name,
        done,
        round(seconds, 4),
        seconds / done,
        len(errors),
        min(outputs) if outputs else 0,
        round((own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime), 3),
        cpu,
        noise,
    )


def modes_for(concurrency: int, with_peer: bool) -> list[Mode]:
    """Three at a time only with one client: with more, the requests in flight would pass the
    service's admission capacity on a small machine and measure its 503s instead."""
    return [m for m in MODES if (with_peer or m.system != "original") and (m.kind != "singles3" or concurrency == 1)]
