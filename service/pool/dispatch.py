"""The libvips process pool: sizing, bounded admission, lanes, deadlines, runaway and crash recovery.

Each worker is its own single-process executor (a "slot"). Dispatching to a slot ourselves, instead
of handing every job to one shared ProcessPoolExecutor, gives what the shared executor cannot: a
job is only submitted when a worker can take it, so "not started by its deadline" is decided here
and such a job is never run late; a worker that dies breaks only its own slot, so only the job it
held fails; busy/waiting counts are exact for the saturation metric; and work is ordered by lane.

Pipelining: a second job may wait in a busy worker's pipe (so it never idles while the event loop
turns a finished job around; measured ~28% idle with one job each), but only when no worker that
could take it is idle, and never behind or as a background item. If a worker becomes idle while a
job still waits in another worker's pipe, that job is taken back (see `imaging/board.py`) and run
on the idle worker: nothing waits behind another worker's long job while a worker is free.

Runaway work: a job still running past its deadline (the client already has its 504) gets its
worker killed and replaced, since an encoder inside libheif/libaom cannot be interrupted from
libvips. A worker found stopped (SIGSTOP, state T in /proc) is killed and replaced as well. Until
the replacement is warm the pool counts one worker fewer, so `/ready` and saturation stay honest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .. import metrics
from ..imaging.tasks import LibvipsInfo
from ..imaging.worker import libvips_info
from . import board
from .errors import DeadlineExceeded, Overloaded, PoolClosed, PoolError, WorkerCrashed
from .lanes import Lane, background_limit
from .slots import Call, Slot, Submission, short, stopped
from .tickets import Ticket

__all__ = ["WorkerPool"]

log = logging.getLogger("service.pool")
T = TypeVar("T")

# Jobs handed to one worker at most: the one it runs and the next, already in its pipe.
PIPELINE_DEPTH = 2
# How often the watchdog looks for runaway and stopped workers.
WATCHDOG_SECONDS = 0.25
# A job running this long past its deadline has its worker killed: nobody waits for its answer.
RUNAWAY_GRACE_SECONDS = 0.5


class WorkerPool:
    def __init__(
        self,
        size: int,
        max_waiting: int,
        start_method: str = "forkserver",
        *,
        job_worker_share: float = 0.5,
        reserve_for_interactive: bool = True,
        max_batches: int = 0,
    ) -> None:
        self.size = size
        self.max_waiting = max_waiting
        self.background_limit = background_limit(size, job_worker_share)
        self.reserve_for_interactive = reserve_for_interactive
        self._context = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Forked workers start from a server that already imported our (pyvips-free) modules.
            self._context.set_forkserver_preload(["service.imaging.worker", "service.pool.board"])
        self._slots: list[Slot] = []
        self._queues: dict[Lane, deque[Call]] = {lane: deque() for lane in Lane}
        self._background_waiters: deque[asyncio.Future[None]] = deque()
        self._seq = itertools.count(1)
        self._admitted = 0
        # Batches admitted at once (0: no limit of their own). Each may hold up to
        # MAX_BATCH_OUTPUT_PIXELS of rasters in memory, so this is what bounds their sum.
        self.max_batches = max_batches
        self._batches = 0
        self._closing = False
        self._restarting: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self.info: LibvipsInfo | None = None

    # --- observability -------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        """Jobs handed to live workers (running, or next in a worker's pipe)."""
        return sum(1 for s in self._slots if not s.dead for sub in s.outstanding if not sub.withdrawn)

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._queues.values())

    @property
    def workers_ready(self) -> int:
        """Workers able to take work now: a worker being replaced does not count."""
        return sum(1 for s in self._slots if s.ready and not s.dead)

    @property
    def saturation(self) -> float:
        return (self.busy + self.waiting) / max(1, self.workers_ready)

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def batch_workers(self) -> int:
        """Workers a synchronous batch's long items may occupy at once (one is kept for
        interactive work when there are two or more)."""
        return self.size - 1 if self._reserve_for_interactive() else self.size

    @property
    def capacity(self) -> int:
        """Requests that may be in the service at once: one running per worker plus the queue."""
        return self.size + self.max_waiting

    @property
    def accepting(self) -> bool:
        return not self._closing and self._admitted < self.capacity and self.workers_ready > 0

    def worker_pids(self) -> list[int]:
        return [pid for slot in self._slots for pid in slot.pids()]

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> LibvipsInfo:
        self._slots = [Slot(self._context, i) for i in range(self.size)]
        # Warm every worker now (spawn + import pyvips) so the first requests do not pay for it.
        infos = await asyncio.gather(*(asyncio.wrap_future(s.executor.submit(libvips_info)) for s in self._slots))
        for slot in self._slots:
            slot.ready = True
        self.info = infos[0]
        metrics.POOL_WORKERS.set(self.size)
        metrics.bind_pool(self)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        return infos[0]

    async def close(self, grace: float = 5.0) -> None:
        """Stop admitting and stop the workers. By now the server has drained its requests, so a
        job still running belongs to a request already answered (a 504): it gets `grace` seconds,
        then its worker is killed rather than holding the process past PM2's and ECS's timeouts."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        for queue in self._queues.values():
            while queue:
                item = queue.popleft()
                if not item.result.done():
                    item.result.set_exception(PoolClosed())
        for waiter in self._background_waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed())
        for task in list(self._restarting):
            task.cancel()
        slots, self._slots = self._slots, []
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
    def refusal(self, batch: bool = False) -> PoolError | None:
        """What admit() would raise now, if anything: lets the HTTP layer refuse a request before
        reading its body."""
        if self._closing:
            return PoolClosed()
        if self._admitted >= self.capacity:
            # Roughly how long the queue ahead takes to drain at a typical job time of ~0.2 s.
            return Overloaded(retry_after=max(1, round(self.capacity / self.size * 0.2)))
        if batch and self.max_batches and self._batches >= self.max_batches:
            return Overloaded(retry_after=5)  # a batch takes seconds, not a fraction of one
        return None

    def admit(self, batch: bool = False) -> Ticket:
        """A place for one request; `batch=True` also counts it against MAX_CONCURRENT_BATCHES."""
        refused = self.refusal(batch)
        if refused is not None:
            raise refused
        return Ticket(self, batch)

    # --- running jobs --------------------------------------------------------------------------
    async def run(
        self,
        fn: Callable[[Any], T],
        job: Any,
        deadline: float,
        *,
        lane: Lane = Lane.INTERACTIVE,
        cost: float | None = None,
    ) -> T:
        """Run fn(job) on a worker; raise DeadlineExceeded / WorkerCrashed / PoolClosed.

        `deadline` (time.time()) is when the caller stops waiting: work not started by then is
        dropped, work still running a moment after it has its worker killed and replaced. `cost`
        (estimated seconds) lets a short batch item use the worker kept for interactive work."""
        if self._closing:
            raise PoolClosed()
        loop = asyncio.get_running_loop()
        item = Call(fn, job, deadline, lane, loop.create_future(), cost)
        # Nobody may be left to read an abandoned item's outcome: mark it read.
        item.result.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self._queues[lane].append(item)
        self._dispatch()
        try:
            result: T = await asyncio.wait_for(asyncio.shield(item.result), max(0.0, deadline - time.time()))
            return result
        except TimeoutError:
            raise DeadlineExceeded(started=self._abandon(item)) from None
        except asyncio.CancelledError:
            # Its client left: withdraw the job if no worker has started it. A started background
            # item (a deleted job's) has nobody left to want it, and nothing is pipelined behind
            # it, so its worker is killed and replaced rather than kept busy for minutes.
            started = self._abandon(item)
            if started and lane is Lane.BACKGROUND and item.current is not None:
                self._condemn(item.current.slot, "abandoned")
            raise

    async def wait_background_slot(self) -> None:
        """Return when a BACKGROUND item may start now: a worker is fully idle, no interactive or
        batch work is waiting, and fewer than the background share of workers run background
        items. Raises PoolClosed on shutdown."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closing:
                raise PoolClosed()
            if self._background_may_start():
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._background_waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._background_waiters.remove(waiter)

    def _abandon(self, item: Call) -> bool:
        """The caller stops waiting for item. Returns whether a worker started it."""
        queue = self._queues[item.lane]
        if item in queue:
            queue.remove(item)
            return False
        sub = item.current
        if sub is None or sub.withdrawn:
            return False
        if sub.slot.withdraw(sub):
            self._dispatch()  # its place in that pipe is free for someone else once it returns
            return False
        return True

    # --- dispatching ---------------------------------------------------------------------------
    def _live(self) -> list[Slot]:
        return [s for s in self._slots if s.ready and not s.dead]

    def _non_interactive_slots(self) -> int:
        return sum(1 for s in self._live() if s.lanes() - {Lane.INTERACTIVE})

    def _reserve_for_interactive(self) -> bool:
        return self.size >= 2 and self.reserve_for_interactive

    def _background_slots(self) -> int:
        running = sum(1 for s in self._live() if Lane.BACKGROUND in s.lanes())
        return running + len(self._queues[Lane.BACKGROUND])

    def _background_may_start(self) -> bool:
        if self._closing or self._queues[Lane.INTERACTIVE] or self._queues[Lane.BATCH]:
            return False
        if not any(s.load == 0 for s in self._live()):
            return False
        if self._background_slots() >= self.background_limit:
            return False
        return self.size < 2 or self._non_interactive_slots() + 1 <= self.size - 1

    def _idle_for(self, lane: Lane) -> Slot | None:
        """A fully idle worker this lane may take."""
        idle = [s for s in self._live() if s.load == 0]
        if not idle:
            return None
        if lane is Lane.BACKGROUND:
            return idle[0] if self._background_may_start_on_idle() else None
        if lane is Lane.BATCH and self._reserve_for_interactive() and self._non_interactive_slots() + 1 > self.size - 1:
            return None
        return idle[0]

    def _background_may_start_on_idle(self) -> bool:
        if self._queues[Lane.INTERACTIVE] or self._queues[Lane.BATCH]:
            return False
        running = sum(1 for s in self._live() if Lane.BACKGROUND in s.lanes())
        if running >= self.background_limit:
            return False
        return self.size < 2 or self._non_interactive_slots() + 1 <= self.size - 1

    def _pipe_for(self, lane: Lane) -> Slot | None:
        """A busy worker with room in its pipe, never behind background work; interactive work
        prefers a worker running interactive work (likely to finish soon)."""
        if lane is Lane.BACKGROUND:
            return None
        candidates = [s for s in self._live() if 0 < s.load < PIPELINE_DEPTH and Lane.BACKGROUND not in s.lanes()]
        if lane is Lane.BATCH and self._reserve_for_interactive():
            # Pipelining into a worker already doing batch work does not take one from interactive work.
            candidates = [s for s in candidates if s.lanes() - {Lane.INTERACTIVE}] or (
                candidates if self._non_interactive_slots() + 1 <= self.size - 1 else []
            )
        if not candidates:
            return None
        candidates.sort(key=lambda s: (s.lanes() != {Lane.INTERACTIVE}, s.index))
        return candidates[0]

    def _dispatch(self) -> None:
        if self._closing:
            return
        for lane in Lane:
            queue = self._queues[lane]
            while queue:
                slot = self._idle_for(lane)
                if slot is None and not any(s.load == 0 for s in self._live()):
                    slot = self._pipe_for(lane)  # pipeline only when no worker is idle at all
                elif slot is None and lane is Lane.BATCH:
                    slot = self._pipe_for(lane)  # the idle one is kept for interactive work...
                    if slot is None and short(queue[0]):
                        # ...except for an item short enough that a request arriving now would
                        # barely notice waiting for it: small grids then use every worker.
                        slot = next(s for s in self._live() if s.load == 0)
                if slot is None:
                    break
                self._submit(slot, queue.popleft())
            if queue:
                break  # lower lanes wait until this one is served
        self._steal_back()
        self._wake_background()

    def _steal_back(self) -> None:
        """An idle worker takes over a job still waiting in another worker's pipe: one queued
        behind a job that worker has not finished. A job just handed to an idle worker has not
        started either, but nothing is ahead of it: moving it would only cost a second round trip
        (it did, on every request, until the `ahead` check)."""
        while True:
            queued = [
                sub
                for s in self._live()
                for i, sub in enumerate(s.outstanding)
                if not sub.withdrawn
                and sub.seq > s.started_seq()
                and any(not ahead.withdrawn for ahead in s.outstanding[:i])
            ]
            for sub in queued:
                target = self._idle_for(sub.item.lane)
                if target is not None and sub.slot.withdraw(sub):
                    self._submit(target, sub.item)
                    metrics.POOL_JOBS_MOVED.inc()
                    break
            else:
                return

    def _wake_background(self) -> None:
        if not self._background_waiters or not self._background_may_start():
            return
        free = sum(1 for s in self._live() if s.load == 0)
        room = min(free, self.background_limit - self._background_slots())
        for waiter in list(self._background_waiters):
            if room <= 0:
                break
            if not waiter.done():
                waiter.set_result(None)
                room -= 1

    def _submit(self, slot: Slot, item: Call) -> None:
        sub = Submission(item, next(self._seq), slot)
        try:
            cfut = slot.executor.submit(board.run_claimed, sub.seq, item.fn, item.job)
        except (BrokenProcessPool, RuntimeError):
            self._queues[item.lane].appendleft(item)
            self._replace(slot)
            return
        item.current = sub
        slot.outstanding.append(sub)
        asyncio.wrap_future(cfut).add_done_callback(lambda f: self._finished(sub, cfut, f))

    def _finished(self, sub: Submission, cfut: Future[Any], wrapped: asyncio.Future[Any]) -> None:
        if not wrapped.cancelled():
            wrapped.exception()  # read here; the outcome is passed on from cfut below
        slot, item = sub.slot, sub.item
        crashed = not cfut.cancelled() and isinstance(cfut.exception(), BrokenProcessPool)
        started = slot.started_seq() >= sub.seq
        if sub in slot.outstanding:
            slot.outstanding.remove(sub)
        if crashed and not slot.dead:
            log.warning("worker died during a job; replacing it", extra={"slot": slot.index})
            self._replace(slot)
        elif slot.condemned and not slot.outstanding:
            self._replace(slot)  # its last job finished just before the kill landed
        if sub.withdrawn or item.current is not sub or item.result.done():
            pass  # taken back (and run elsewhere) or abandoned: nobody waits for this answer
        elif crashed and not started:
            # Only queued behind the job that killed the worker: it never ran, run it elsewhere.
            item.current = None
            self._queues[item.lane].appendleft(item)
        elif crashed:
            item.result.set_exception(WorkerCrashed())
        elif cfut.cancelled():
            item.result.set_exception(PoolClosed())
        elif cfut.exception() is not None:
            item.result.set_exception(cfut.exception())  # type: ignore[arg-type]
        else:
            item.result.set_result(cfut.result())
        self._dispatch()

    def _replace(self, dead: Slot) -> None:
        if dead.dead:
            return
        dead.dead = True
        if self._closing:
            return
        metrics.WORKER_RESTARTS.inc()
        dead.kill()
        dead.shutdown(wait=False)
        fresh = Slot(self._context, dead.index)
        self._slots = [fresh if s is dead else s for s in self._slots]
        task = asyncio.get_running_loop().create_task(self._warm(fresh))
        self._restarting.add(task)
        task.add_done_callback(self._restarting.discard)

    async def _warm(self, slot: Slot) -> None:
        delay = 0.1
        while not self._closing:
            try:
                await asyncio.wrap_future(slot.executor.submit(libvips_info))
                slot.ready = True
                self._dispatch()
                return
            except (BrokenProcessPool, RuntimeError, OSError):
                log.error("replacement worker failed to start; retrying", extra={"retry_in_s": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                slot.shutdown(wait=False)
                replacement = Slot(self._context, slot.index)
                self._slots = [replacement if s is slot else s for s in self._slots]
                slot = replacement

    # --- watchdog ------------------------------------------------------------------------------
    async def _watch(self) -> None:
        while not self._closing:
            await asyncio.sleep(WATCHDOG_SECONDS)
            try:
                self.check_workers()
            except Exception:  # the watchdog must outlive any surprise
                log.exception("worker watchdog failed")

    def check_workers(self) -> None:
        """Kill and replace workers that run past a deadline, are stopped, or died while idle."""
        now = time.time()
        for slot in list(self._slots):
            if slot.dead or not slot.ready:
                continue
            reason = None
            if not slot.alive():
                reason = "died"
            elif any(stopped(pid) for pid in slot.pids()):
                reason = "stopped"
            else:
                running = slot.running()
                if running is not None and now > running.item.deadline + RUNAWAY_GRACE_SECONDS:
                    reason = "deadline"
            if reason is not None:
                self._condemn(slot, reason)

    def _condemn(self, slot: Slot, reason: str) -> None:
        if slot.dead or slot.condemned:
            return
        slot.ready = False  # takes no more work; replaced once its jobs have failed over
        slot.condemned = True
        log.warning("replacing a worker", extra={"slot": slot.index, "reason": reason})
        metrics.WORKER_KILLS.labels(reason).inc()
        if reason != "died":
            slot.kill()  # its jobs fail with BrokenProcessPool; _finished re-runs queued ones
        if not slot.outstanding:
            self._replace(slot)
