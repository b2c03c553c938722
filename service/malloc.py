"""glibc malloc settings for the server process, so a large upload does not cost page faults.

By default glibc serves an allocation over its mmap threshold with a fresh mmap (400 page faults
and 400 zeroed pages for a 1.6 MB upload) and unmaps it on free; its dynamic threshold and heap
trimming then move large buffers between the heap and mmap from one request to the next. Each
request's body and its copies cost ~1.5 ms of server CPU in the kernel that way (perf: exc_page_fault,
clear_page_erms, unmap_page_range; bench/studies/server_cpu.py). Serving them from a heap that keeps its
pages (mmap only above 32 MB, trim only when 64 MB lie free at the top) makes them plain memcpys.

Memory: the server keeps up to its peak of in-flight uploads resident (bounded by the admission
queue x MAX_UPLOAD_BYTES) instead of returning it between requests. The workers are separate
processes started by the forkserver and are not affected. Not glibc (musl, macOS): nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = [
    "MMAP_THRESHOLD",
    "M_MMAP_THRESHOLD",
    "M_TOP_PAD",
    "M_TRIM_THRESHOLD",
    "TOP_PAD",
    "TRIM_THRESHOLD",
    "keep_large_buffers",
]

log = logging.getLogger("service.malloc")

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum for this setting (HEAP_MAX / 2 on 64-bit)
TRIM_THRESHOLD = 64 * 1024 * 1024
TOP_PAD = 4 * 1024 * 1024


def keep_large_buffers() -> bool:
    """Apply the settings in this process; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = all(
        mallopt(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD),
        )
    )
    if not done:
        log.warning("mallopt refused a setting; large uploads may cost page faults")
    return done
