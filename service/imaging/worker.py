"""Entry points that run inside a pool worker process.

`init_worker` must run before anything imports pyvips in that process: libvips reads its thread
count when it starts, and we want one libvips thread per worker so N workers use N cores.
Every job re-checks its deadline on arrival: a job that could not start in time is not run late.
"""

from __future__ import annotations

import os
import signal
import time

from .errors import ErrorKind, ImageError
from .formats import ALLOWED_LOADERS, REQUIRED_SAVERS, OutputFormat
from .jobs import Converted, ConvertJob, Encoded, EncodeJob, LibvipsInfo, Prepared, PrepareJob, Raster

_ready = False


def init_worker(service_pid: int | None = None) -> None:
    """Single-threaded libvips, no operation cache, only the loaders we accept."""
    global _ready
    os.environ["VIPS_CONCURRENCY"] = "1"
    # The parent manages our life: a Ctrl-C in a terminal, or a supervisor signalling the whole
    # process tree, must not kill jobs mid-flight; the parent drains, then shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if service_pid is not None:
        _exit_with(service_pid)
    import pyvips

    pyvips.concurrency_set(1)
    # Each image is seen once: the cache would only hold memory (libvips' own server checklist).
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for loader in ALLOWED_LOADERS:
        pyvips.operation_block_set(loader, False)
    _ready = True


def _exit_with(service_pid: int) -> None:
    """Exit when the service process is gone, however it went (SIGKILL, OOM). The forkserver and
    every worker hold each other's pipes open, so no EOF would ever tell them: watch the pid."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() == 1 or not os.path.exists(f"/proc/{service_pid}"):
                os._exit(0)
            try:
                os.kill(service_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="exit-with-service", daemon=True).start()


def _ensure_ready() -> None:
    if not _ready:
        init_worker()


def libvips_info() -> LibvipsInfo:
    _ensure_ready()
    import pyvips

    missing = []
    for saver in REQUIRED_SAVERS.values():
        try:
            pyvips.Operation.new_from_name(saver)
        except pyvips.Error:
            missing.append(saver)
    mozjpeg = False
    if "jpegsave_buffer" not in missing:
        probe = pyvips.Image.gaussnoise(64, 64).cast("uchar")
        plain = probe.jpegsave_buffer(Q=75)
        trellis = probe.jpegsave_buffer(Q=75, trellis_quant=True)
        mozjpeg = plain != trellis
    version = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    return LibvipsInfo(version, tuple(missing), mozjpeg, pyvips.concurrency_get(), os.getpid())


def _check_deadline(deadline: float) -> None:
    if time.time() > deadline:
        raise ImageError(ErrorKind.DEADLINE, "The request deadline passed before a worker could start it")


def run_convert(job: ConvertJob) -> Converted:
    _check_deadline(job.deadline)
    _ensure_ready()
    from ..transfer import take
    from .pipeline import convert

    return convert(take(job.blob) if job.blob is not None else job.data, job.options, job.limits)


def run_prepare(job: PrepareJob) -> Prepared:
    _check_deadline(job.deadline)
    _ensure_ready()
    import msgspec

    from .pipeline import decode
    from .plan import plan_resize

    decoded = decode(job.data, job.options, job.limits)
    image, source = decoded.image, decoded.source
    started = time.perf_counter()
    by_size: dict[tuple[int, int], Raster] = {}
    rasters: dict[int, Raster] = {}
    for width in job.widths:
        plan = plan_resize(source.width, source.height, msgspec.structs.replace(job.options, width=width))
        size = (plan.canvas_width, plan.canvas_height)
        if size not in by_size:
            # Smaller widths come from the one decode: a resize is far cheaper than decoding again.
            scaled = image if size == (image.width, image.height) else image.resize(
                size[0] / image.width, vscale=size[1] / image.height)
            by_size[size] = _raster(scaled)
        rasters[-1 if width is None else width] = by_size[size]
    return Prepared(rasters, source.input_type, source.width, source.height, bool(image.hasalpha()),
                    decoded.seconds + time.perf_counter() - started)


def _raster(image) -> Raster:  # type: ignore[no-untyped-def]
    return Raster(
        pixels=bytes(image.write_to_memory()),  # cffi buffers do not pickle
        width=image.width,
        height=image.height,
        bands=image.bands,
        band_format=image.format,
        interpretation=image.interpretation,
    )


def run_encode(job: EncodeJob) -> Encoded:
    _check_deadline(job.deadline)
    _ensure_ready()
    import pyvips

    from .targets import encode_for

    r = job.raster
    image = pyvips.Image.new_from_memory(r.pixels, r.width, r.height, r.bands, r.band_format)
    image = image.copy(interpretation=r.interpretation)
    started = time.perf_counter()
    out = encode_for(image, OutputFormat(job.format), job.options)
    return Encoded(out.data, image.width, image.height, job.format, out.quality, time.perf_counter() - started,
                   out.score, out.attempts)
