"""The pool's lanes and their limits.

Lanes, highest priority first: INTERACTIVE (single conversions), BATCH (items of a synchronous
batch), BACKGROUND (items of asynchronous jobs). Waiting interactive work is always dispatched
before batch items, and batch items before background ones. When there are two workers or more:
background items run only on a fully idle worker, on at most JOB_WORKER_SHARE of the workers, and
never on the last worker free of batch/background work; batch items likewise always leave one worker
to interactive work. A running task cannot be preempted, so only a worker kept free can promise a
single conversion its turn within its own time (measured on a loaded 2-core machine: AVIF batch
items of 20 s each held both workers and every single conversion waited 23 s). The price: a batch
alone runs on WORKERS - 1 workers (`reserve_for_interactive=False` lifts it, for tests and tools).
"""

from __future__ import annotations

import enum
import math

__all__ = ["SHORT_BATCH_ITEM_SECONDS", "Lane", "background_limit"]

# A batch item estimated to take at most this long may use the worker otherwise kept for
# interactive work: an interactive request then waits at most about this long behind it.
SHORT_BATCH_ITEM_SECONDS = 0.25


class Lane(enum.Enum):
    INTERACTIVE = "interactive"  # /api/convert, /api/process, /api/preview
    BATCH = "batch"  # items of a synchronous /api/batch
    BACKGROUND = "background"  # items of an asynchronous job (issue 9)


def background_limit(workers: int, share: float) -> int:
    """Workers that may run background items at once: ceil(share x workers), but never all of
    them when there are two or more (one always stays with interactive work), and at least one."""
    limit = max(1, math.ceil(share * workers - 1e-9))
    return min(limit, workers - 1) if workers >= 2 else 1
