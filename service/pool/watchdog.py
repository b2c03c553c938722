"""The watchdog: which workers must be killed and replaced.

Runaway work: a task still running past its deadline (the client already has its 504) gets its
worker killed and replaced, since an encoder inside libheif/libaom cannot be interrupted from
libvips. A worker found stopped (SIGSTOP, state T in /proc) is killed and replaced as well, and so
is one that died while idle (nothing it ran would report it). Until the replacement is warm the
pool counts one worker fewer, so `/ready` and saturation stay honest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .slots import Slot

__all__ = ["RUNAWAY_GRACE_SECONDS", "WATCHDOG_SECONDS", "verdict", "watch"]

log = logging.getLogger("service.pool")

# How often the watchdog looks for runaway and stopped workers.
WATCHDOG_SECONDS = 0.25
# A task running this long past its deadline has its worker killed: nobody waits for its answer.
RUNAWAY_GRACE_SECONDS = 0.5


def verdict(slot: Slot, now: float) -> str | None:
    """Why this worker must be killed and replaced (the WORKER_KILLS reason), None when it is well."""
    if not slot.alive():
        return "died"
    if slot.stopped():
        return "stopped"
    running = slot.running()
    if running is not None and now > running.call.deadline + RUNAWAY_GRACE_SECONDS:
        return "deadline"
    return None


async def watch(check: Callable[[], None], stopping: Callable[[], bool]) -> None:
    """Run `check` every WATCHDOG_SECONDS until `stopping()`."""
    while not stopping():
        await asyncio.sleep(WATCHDOG_SECONDS)
        try:
            check()
        except Exception:  # the watchdog must outlive any surprise
            log.exception("worker watchdog failed")
