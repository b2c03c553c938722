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
from .jobs import Converted, ConvertJob, Encoded, EncodeJob, LibvipsInfo, Prepared, PrepareJob

_ready = False


def init_worker() -> None:
    """Single-threaded libvips, no operation cache, only the loaders we accept."""
    global _ready
    os.environ["VIPS_CONCURRENCY"] = "1"
    # The parent manages our life: a Ctrl-C in a terminal, or a supervisor signalling the whole
    # process tree, must not kill jobs mid-flight; the parent drains, then shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
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
    from .pipeline import convert

    return convert(job.data, job.options, job.limits)


def run_prepare(job: PrepareJob) -> Prepared:
    _check_deadline(job.deadline)
    _ensure_ready()
    from .pipeline import decode

    decoded = decode(job.data, job.options, job.limits)
    image, source = decoded.image, decoded.source
    return Prepared(
        pixels=bytes(image.write_to_memory()),  # cffi buffers do not pickle
        width=image.width,
        height=image.height,
        bands=image.bands,
        band_format=image.format,
        interpretation=image.interpretation,
        input_type=source.input_type,
        input_width=source.width,
        input_height=source.height,
        has_alpha=bool(image.hasalpha()),
        decode_seconds=decoded.seconds,
    )


def run_encode(job: EncodeJob) -> Encoded:
    _check_deadline(job.deadline)
    _ensure_ready()
    import pyvips

    from .pipeline import encode

    p = job.prepared
    image = pyvips.Image.new_from_memory(p.pixels, p.width, p.height, p.bands, p.band_format)
    image = image.copy(interpretation=p.interpretation)
    started = time.perf_counter()
    if (job.width, job.height) != (p.width, p.height):
        # Smaller batch widths come from the largest decode, not from decoding again.
        image = image.resize(job.width / p.width, vscale=job.height / p.height)
    data = encode(image, OutputFormat(job.format), job.options)
    return Encoded(data, image.width, image.height, job.format, job.options.quality, time.perf_counter() - started)

