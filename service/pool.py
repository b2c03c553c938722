"""The libvips process pool: sizing, bounded admission, deadlines and crash recovery.

Each worker is its own single-process executor (a "slot"). Dispatching to an idle slot ourselves,
instead of handing every job to one shared ProcessPoolExecutor, gives three things the shared
executor cannot: a job is only submitted when a worker is free, so "not started by its deadline"
is decided here and such a job is never run late; a worker that dies breaks only its own slot, so
only the job it held fails; and busy/waiting counts are exact for the saturation metric.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from . import metrics
from .imaging.jobs import LibvipsInfo
from .imaging.worker import init_worker, libvips_info

log = logging.getLogger("service.pool")
T = TypeVar("T")

# Jobs handed to one worker at a time: the one it runs and the next, already in its pipe, so the
# worker never idles while the event loop turns a finished job around (measured: workers sat ~28%
# idle with one job each). A queued job still checks its deadline when it starts, and if the
# worker dies it is re-run elsewhere: only the job the worker was running fails.
PIPELINE_DEPTH = 2


class Lane(enum.Enum):
    INTERACTIVE = "interactive"  # /api/convert, /api/process, /api/preview
    BATCH = "batch"  # items of a synchronous /api/batch
    BACKGROUND = "background"  # items of an asynchronous job (issue 9)


class PoolError(Exception):
    """Base of the pool's refusals; the HTTP layer maps each to a status."""


class Overloaded(PoolError):
    def __init__(self, retry_after: int) -> None:
        super().__init__("The service is at capacity; retry shortly")
        self.retry_after = retry_after


class DeadlineExceeded(PoolError):
    def __init__(self, started: bool) -> None:
        self.started = started
        if started:
            super().__init__("The conversion did not finish before the request deadline")
        else:
            super().__init__("No worker became free before the request deadline; the job was dropped")


class WorkerCrashed(PoolError):
    def __init__(self) -> None:
        super().__init__("The worker converting this image died (out of memory or crashed); retry")


class PoolClosed(PoolError):
    def __init__(self) -> None:
        super().__init__("The service is shutting down")


class _Slot:
    """One worker process behind its own executor."""

    def __init__(self, context: multiprocessing.context.BaseContext, index: int) -> None:
        self.index = index
        self.executor = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=init_worker,
                                            initargs=(os.getpid(),))
        self.outstanding: list[Future[Any]] = []  # submission order: the first is the running one
        self.dead = False
        self.crashed_head: Future[Any] | None = None

    def alive(self) -> bool:
        # _processes is private, but it is the only view of whether the worker still exists.
        processes = getattr(self.executor, "_processes", None) or {}
        return all(p.is_alive() for p in processes.values())

    def pids(self) -> list[int]:
        return list((getattr(self.executor, "_processes", None) or {}).keys())

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.executor.submit(fn, *args)

    def shutdown(self, wait: bool) -> None:
        self.executor.shutdown(wait=wait, cancel_futures=True)


class WorkerPool:
    def __init__(self, size: int, max_waiting: int, start_method: str = "forkserver") -> None:
        self.size = size
        self.max_waiting = max_waiting
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Forked workers start from a server that already imported our (pyvips-free) modules.
            self._context.set_forkserver_preload(["service.imaging.worker"])
        self._slots: list[_Slot] = []
        self._idle: deque[_Slot] = deque()
        self._waiters: deque[asyncio.Future[_Slot]] = deque()
        self._admitted = 0
        self._busy = 0
        self._closing = False
        self._restarting: set[asyncio.Task[None]] = set()
        self.info: LibvipsInfo | None = None

    # --- observability -------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        return self._busy

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    @property
    def saturation(self) -> float:
        return (self._busy + self.waiting) / self.size

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def capacity(self) -> int:
        """Requests that may be in the service at once: one running per worker plus the queue."""
        return self.size + self.max_waiting

    @property
    def accepting(self) -> bool:
        return not self._closing and self._admitted < self.capacity and bool(self._slots)

    def worker_pids(self) -> list[int]:
        return [pid for slot in self._slots for pid in slot.pids()]

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> LibvipsInfo:
        self._slots = [_Slot(self._context, i) for i in range(self.size)]
        # Warm every worker now (spawn + import pyvips) so the first requests do not pay for it.
        infos = await asyncio.gather(*(asyncio.wrap_future(s.submit(libvips_info)) for s in self._slots))
        for _ in range(PIPELINE_DEPTH):  # interleaved: the first jobs spread over every worker
            self._idle.extend(self._slots)
        self.info = infos[0]
        metrics.POOL_WORKERS.set(self.size)
        metrics.bind_pool(self)
        return infos[0]

    async def close(self, grace: float = 5.0) -> None:
        """Stop admitting and stop the workers. By now the server has drained its requests, so a
        job still running belongs to a request already answered (a 504): it gets `grace` seconds,
        then its worker is killed rather than holding the process past PM2's and ECS's timeouts."""
        self._closing = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed())
        for task in list(self._restarting):
            task.cancel()
        slots, self._slots = self._slots, []
        self._idle.clear()
        processes = [p for s in slots for p in (getattr(s.executor, "_processes", None) or {}).values()]
        for slot in slots:
            slot.shutdown(wait=False)

        def reap() -> int:
            deadline = time.monotonic() + grace
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
            stuck = [p for p in processes if p.is_alive()]
            for process in stuck:
                process.kill()  # workers ignore SIGTERM by design; SIGKILL is the only stop
                process.join(5)
            return len(stuck)

        killed = await asyncio.to_thread(reap)
        if killed:
            log.warning("killed workers still running abandoned jobs at shutdown", extra={"workers": killed})

    # --- admission -----------------------------------------------------------------------------
    def admit(self) -> Ticket:
        if self._closing:
            raise PoolClosed()
        if self._admitted >= self.capacity:
            # Roughly how long the queue ahead takes to drain at a typical job time of ~0.2 s.
            raise Overloaded(retry_after=max(1, round(self.capacity / self.size * 0.2)))
        return Ticket(self)

    # --- running jobs --------------------------------------------------------------------------
    async def run(self, fn: Callable[[Any], T], job: Any, deadline: float, *, lane: Lane = Lane.INTERACTIVE) -> T:
        """Run fn(job) on a worker; raise DeadlineExceeded / WorkerCrashed / PoolClosed."""
        if lane is Lane.BACKGROUND:
            return await self._run_background(fn, job, deadline)
        while True:
            slot = await self._acquire(deadline)
            if slot.dead:  # a token of a worker already replaced
                continue
            if not slot.alive():  # died while idle: replace it and take another
                self._replace(slot)
                continue
            try:
                cfut = slot.submit(fn, job)
            except (BrokenProcessPool, RuntimeError):
                self._replace(slot)
                continue
            slot.outstanding.append(cfut)
            self._busy += 1
            fut = asyncio.wrap_future(cfut)
            fut.add_done_callback(lambda f, s=slot, c=cfut: self._finished(s, c, f))
            try:
                return await asyncio.wait_for(asyncio.shield(fut), max(0.0, deadline - time.time()))
            except asyncio.CancelledError:
                cfut.cancel()  # its client left: withdraw the job if the worker has not taken it
                raise
            except TimeoutError:
                # Still queued behind another job: it never started (and the worker will skip it).
                started = bool(slot.outstanding) and slot.outstanding[0] is cfut
                raise DeadlineExceeded(started=started) from None
            except BrokenProcessPool:
                if slot.crashed_head is cfut:
                    raise WorkerCrashed() from None
                # Only queued behind the job that killed the worker: it never ran, run it elsewhere.

    async def _acquire(self, deadline: float) -> _Slot:
        if self._closing:
            raise PoolClosed()
        if self._idle:
            return self._idle.popleft()
        waiter: asyncio.Future[_Slot] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, max(0.0, deadline - time.time()))
        except TimeoutError:
            raise DeadlineExceeded(started=False) from None
        finally:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    def _release(self, slot: _Slot) -> None:
        if self._closing:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._idle.append(slot)

    def _finished(self, slot: _Slot, cfut: Future[Any], fut: asyncio.Future[Any]) -> None:
        self._busy -= 1
        crashed = not fut.cancelled() and isinstance(fut.exception(), BrokenProcessPool)
        if crashed and not slot.dead:
            slot.crashed_head = slot.outstanding[0] if slot.outstanding else cfut
            log.warning("worker died during a job; replacing it", extra={"slot": slot.index})
            self._replace(slot)
        slot.outstanding.remove(cfut)
        if not slot.dead:
            self._release(slot)

    def _replace(self, dead: _Slot) -> None:
        if dead.dead:
            return
        dead.dead = True
        if self._closing:
            return
        metrics.WORKER_RESTARTS.inc()
        dead.shutdown(wait=False)
        fresh = _Slot(self._context, dead.index)
        self._slots = [fresh if s is dead else s for s in self._slots]
        task = asyncio.get_running_loop().create_task(self._warm(fresh))
        self._restarting.add(task)
        task.add_done_callback(self._restarting.discard)

    async def _warm(self, slot: _Slot) -> None:
        delay = 0.1
        while not self._closing:
            try:
                await asyncio.wrap_future(slot.submit(libvips_info))
                for _ in range(PIPELINE_DEPTH):
                    self._release(slot)
                return
            except (BrokenProcessPool, RuntimeError, OSError):
                log.error("replacement worker failed to start; retrying", extra={"retry_in_s": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                slot.shutdown(wait=False)
                replacement = _Slot(self._context, slot.index)
                self._slots = [replacement if s is slot else s for s in self._slots]
                slot = replacement


    # --- TEMPORARY stand-in (jobs branch, issue 9) for the reliability branch's lanes ----------------
    # Replace this whole block with the reliability branch's implementation at merge. Contract: a
    # BACKGROUND item runs only on a fully idle worker, nothing is pipelined behind it, and
    # wait_background_slot() returns when such a worker exists and no request waits. The job runner
    # enforces JOB_WORKER_SHARE itself, so this stand-in does not.
    def _fully_idle_slot(self) -> _Slot | None:
        if self._closing or self.waiting:
            return None
        for slot in self._slots:
            if not slot.dead and not slot.outstanding and sum(1 for s in self._idle if s is slot) == PIPELINE_DEPTH:
                return slot
        return None

    async def wait_background_slot(self) -> None:
        while self._fully_idle_slot() is None:
            if self._closing:
                raise PoolClosed()
            await asyncio.sleep(0.05)

    async def _run_background(self, fn: Callable[[Any], T], job: Any, deadline: float) -> T:
        slot = self._fully_idle_slot()
        if slot is None:
            raise PoolClosed() if self._closing else Overloaded(retry_after=1)
        self._idle = deque(s for s in self._idle if s is not slot)  # nothing queues behind it
        cfut = slot.submit(fn, job)
        slot.outstanding.append(cfut)
        self._busy += 1
        fut = asyncio.wrap_future(cfut)

        def finished(f: asyncio.Future[Any]) -> None:  # _finished returns one token; the others come back here
            self._finished(slot, cfut, f)
            for _i in range(PIPELINE_DEPTH - 1):
                if not slot.dead:
                    self._release(slot)

        fut.add_done_callback(finished)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), max(0.0, deadline - time.time()))
        except TimeoutError:
            raise DeadlineExceeded(started=True) from None
        except BrokenProcessPool:
            raise WorkerCrashed() from None

    # --- end of the TEMPORARY stand-in -----------------------------------------------------------


class Ticket:
    """A request's place in the service, held while it is being handled."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        pool._admitted += 1
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._pool._admitted -= 1

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
