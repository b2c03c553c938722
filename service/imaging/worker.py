"""Entry points that run inside a pool worker process.

`init_worker` must run before anything imports pyvips in that process: libvips reads its thread
count when it starts, and we want one libvips thread per worker so N workers use N cores.
Every task re-checks its deadline on arrival: a task that could not start in time is not run late.
"""

from __future__ import annotations

import os
import signal
import time

import msgspec

from ..errors import DEADLINE
from .errors import ImageError
from .formats import ALLOWED_LOADERS, REQUIRED_SAVERS
from .tasks import Converted, ConvertTask, LibvipsInfo

__all__ = ["RASTER_FILE_LOADER", "check_deadline", "ensure_ready", "init_worker", "libvips_info", "run_convert"]

_ready = False
RASTER_FILE_LOADER = "VipsForeignLoadVipsFile"


def init_worker(service_pid: int | None = None) -> None:
    """Single-threaded libvips, no operation cache, only the loaders we accept."""
    global _ready
    os.environ["VIPS_CONCURRENCY"] = "1"
    # The parent manages our life: a Ctrl-C in a terminal, or a supervisor signalling the whole
    # process tree, must not kill tasks mid-flight; the parent drains, then shuts the pool down.
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
    # Batch rasters travel between workers as .v files the service wrote itself. Uploads never
    # reach a file loader (only *_buffer, and probe refuses any loader outside ALLOWED_LOADERS).
    pyvips.operation_block_set(RASTER_FILE_LOADER, False)
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


def ensure_ready() -> None:
    if not _ready:
        init_worker()
    import pyvips

    # libvips keeps one error buffer per process: a message left by the previous task (a failed
    # format sniff sets it without raising) would otherwise prefix this task's error.
    pyvips.vips_lib.vips_error_clear()


def libvips_info() -> LibvipsInfo:
    ensure_ready()
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


def check_deadline(deadline: float) -> None:
    if time.time() > deadline:
        raise ImageError(DEADLINE, "The request deadline passed before a worker could start it")


def run_convert(task: ConvertTask) -> Converted:
    check_deadline(task.deadline)
    ensure_ready()
    from ..transfer import MIN_BYTES, give, take
    from .pipeline import convert

    result = convert(take(task.blob) if task.blob is not None else task.data, task.options, task.limits)
    if task.out is not None and len(result.data) >= MIN_BYTES:
        try:
            return msgspec.structs.replace(result, data=b"", blob=give(task.out, result.data))
        except OSError:  # /dev/shm full (a container's 64 MB default): the pipe still works
            pass
    return result
