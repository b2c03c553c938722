"""The WorkerPool: runs tasks on libvips worker processes, putting the pool's parts together.

Each worker is its own single-process executor (a "slot", `slots.py`). Dispatching to a slot
ourselves, instead of handing every task to one shared ProcessPoolExecutor, gives what the shared
executor cannot: a task is only submitted when a worker can take it, so "not started by its
deadline" is decided here and such a task is never run late; a worker that dies breaks only its
own slot, so only the task it held fails; busy/waiting counts are exact for the saturation metric;
and work is ordered by lane (`lanes.py`). Which worker takes what is decided by the scheduling
policy (`policy.py`) over a snapshot of the workers; a task waiting in a busy worker's pipe is
taken back through the hand-off board (`board.py`); the watchdog (`watchdog.py`) finds workers to
kill and replace; admission (`tickets.py`) bounds the requests in the service.
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
from . import policy, watchdog
from .errors import DeadlineExceeded, PoolClosed, PoolError, WorkerCrashed
from .lanes import Lane, background_limit
from .slots import Call, Slot, Submission, retire
from .tickets import Admission, Ticket

__all__ = ["WorkerPool"]

log = logging.getLogger("service.pool")
T = TypeVar("T")


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
        self._admission = Admission(size, max_waiting, max_batches)
        self._slots: list[Slot] = []
        self._queues: dict[Lane, deque[Call]] = {lane: deque() for lane in Lane}
        self._background_waiters: deque[asyncio.Future[None]] = deque()
        self._seq = itertools.count(1)
        self._closing = False
        self._restarting: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self.info: LibvipsInfo | None = None

    # --- observability -------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        """Tasks handed to live workers (running, or next in a worker's pipe)."""
        return sum(1 for s in self._slots if not s.dead for sub in s.outstanding if not sub.withdrawn)

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self._queues.values())

    @property
    def workers_ready(self) -> int:
        """Workers able to take work now: a worker being replaced does not count."""
        return len(self._live())

    @property
    def saturation(self) -> float:
        return (self.busy + self.waiting) / max(1, self.workers_ready)

    @property
    def admitted(self) -> int:
        return self._admission.admitted

    @property
    def max_batches(self) -> int:
        return self._admission.max_batches

    @property
    def batch_workers(self) -> int:
        """Workers a synchronous batch's long items may occupy at once (one is kept for
        interactive work when there are two or more)."""
        return self.size - 1 if self.size >= 2 and self.reserve_for_interactive else self.size

    @property
    def capacity(self) -> int:
        """Requests that may be in the service at once: one running per worker plus the queue."""
        return self._admission.capacity

    @property
    def accepting(self) -> bool:
        return not self._closing and not self._admission.full and self.workers_ready > 0

    def worker_pids(self) -> list[int]:
        return [slot.pid for slot in self._slots if slot.pid is not None]

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> LibvipsInfo:
        self._slots = [Slot(self._context, i) for i in range(self.size)]
        # Warm every worker now (spawn + import pyvips) so the first requests do not pay for it.
        infos = await asyncio.gather(*(asyncio.wrap_future(s.warm()) for s in self._slots))
        for slot in self._slots:
            slot.ready = True
        self.info = infos[0]
        metrics.POOL_WORKERS.set(self.size)
        metrics.bind_pool(self)
        self._watchdog = asyncio.get_running_loop().create_task(
            watchdog.watch(self.check_workers, lambda: self._closing)
        )
        return infos[0]

    async def close(self, grace: float = 5.0) -> None:
        """Stop admitting and stop the workers. By now the server has drained its requests, so a
        task still running belongs to a request already answered (a 504): it gets `grace` seconds,
        then its worker is killed rather than holding the process past PM2's and ECS's timeouts."""
        self._closing = True
        self._admission.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
        for queue in self._queues.values():
            while queue:
                call = queue.popleft()
                if not call.result.done():
                    call.result.set_exception(PoolClosed())
        for waiter in self._background_waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed())
        for task in list(self._restarting):
            task.cancel()
        slots, self._slots = self._slots, []
        killed = await retire(slots, grace)
        if killed:
            log.warning("killed workers still running abandoned tasks at shutdown", extra={"workers": killed})

    # --- admission -----------------------------------------------------------------------------
    def refusal(self, batch: bool = False) -> PoolError | None:
        """What admit() would raise now, if anything: lets the HTTP layer refuse a request before
        reading its body."""
        return self._admission.refusal(batch)

    def admit(self, batch: bool = False) -> Ticket:
        """A place for one request; `batch=True` also counts it against MAX_CONCURRENT_BATCHES."""
        return self._admission.admit(batch)

    # --- running tasks -------------------------------------------------------------------------
    async def run(
        self,
        fn: Callable[[Any], T],
        task: Any,
        deadline: float,
        *,
        lane: Lane = Lane.INTERACTIVE,
        cost: float | None = None,
    ) -> T:
        """Run fn(task) on a worker; raise DeadlineExceeded / WorkerCrashed / PoolClosed.

        `deadline` (time.time()) is when the caller stops waiting: work not started by then is
        dropped, work still running a moment after it has its worker killed and replaced. `cost`
        (estimated seconds) lets a short batch item use the worker kept for interactive work."""
        if self._closing:
            raise PoolClosed()
        loop = asyncio.get_running_loop()
        call = Call(fn, task, deadline, lane, loop.create_future(), cost)
        # Nobody may be left to read an abandoned call's outcome: mark it read.
        call.result.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        self._queues[lane].append(call)
        self._dispatch()
        try:
            result: T = await asyncio.wait_for(asyncio.shield(call.result), max(0.0, deadline - time.time()))
            return result
        except TimeoutError:
            raise DeadlineExceeded(started=self._abandon(call)) from None
        except asyncio.CancelledError:
            # Its client left: withdraw the task if no worker has started it. A started background
            # item (a deleted job's) has nobody left to want it, and nothing is pipelined behind
            # it, so its worker is killed and replaced rather than kept busy for minutes.
            started = self._abandon(call)
            if started and lane is Lane.BACKGROUND and call.current is not None:
                self._condemn(call.current.slot, "abandoned")
            raise

    async def wait_background_slot(self) -> None:
        """Return when a BACKGROUND item may start now: a worker is fully idle, no interactive or
        batch work is waiting, and fewer than the background share of workers run background
        items. Raises PoolClosed on shutdown."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closing:
                raise PoolClosed()
            if policy.background_may_start(self._snapshot()):
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._background_waiters.append(waiter)
            try:
                await waiter
            finally:
                with contextlib.suppress(ValueError):
                    self._background_waiters.remove(waiter)

    def _abandon(self, call: Call) -> bool:
        """The caller stops waiting for call. Returns whether a worker started it."""
        queue = self._queues[call.lane]
        if call in queue:
            queue.remove(call)
            return False
        sub = call.current
        if sub is None or sub.withdrawn:
            return False
        if sub.slot.withdraw(sub):
            self._dispatch()  # its place in that pipe is free for someone else once it returns
            return False
        return True

    # --- dispatching ---------------------------------------------------------------------------
    def _live(self) -> list[Slot]:
        return [s for s in self._slots if s.ready and not s.dead]

    def _slot(self, index: int) -> Slot:
        return next(s for s in self._slots if s.index == index)

    def _snapshot(self) -> policy.Snapshot:
        batch = self._queues[Lane.BATCH]
        return policy.Snapshot(
            workers=tuple(s.view() for s in self._live()),
            size=self.size,
            background_limit=self.background_limit,
            reserve_for_interactive=self.reserve_for_interactive,
            interactive_waiting=len(self._queues[Lane.INTERACTIVE]),
            batch_waiting=len(batch),
            background_waiting=len(self._queues[Lane.BACKGROUND]),
            next_batch_cost=batch[0].cost if batch else None,
        )

    def _dispatch(self) -> None:
        if self._closing:
            return
        while (assignment := policy.next_assignment(self._snapshot())) is not None:
            self._submit(self._slot(assignment.worker), self._queues[assignment.lane].popleft())
        self._steal_back()
        self._wake_background()

    def _steal_back(self) -> None:
        """Carry out the policy's moves, one per snapshot, until none can be made."""
        while True:
            for move in policy.moves(self._snapshot()):
                source = self._slot(move.source)
                sub = source.submission(move.seq)
                if sub is not None and source.withdraw(sub):
                    self._submit(self._slot(move.target), sub.call)
                    metrics.POOL_JOBS_MOVED.inc()
                    break
            else:
                return

    def _wake_background(self) -> None:
        if not self._background_waiters:
            return
        room = policy.background_room(self._snapshot())
        for waiter in list(self._background_waiters):
            if room <= 0:
                break
            if not waiter.done():
                waiter.set_result(None)
                room -= 1

    def _submit(self, slot: Slot, call: Call) -> None:
        sub = Submission(call, next(self._seq), slot)
        try:
            cfut = slot.submit(sub)
        except (BrokenProcessPool, RuntimeError):
            self._queues[call.lane].appendleft(call)
            self._replace(slot)
            return
        call.current = sub
        asyncio.wrap_future(cfut).add_done_callback(lambda f: self._finished(sub, cfut, f))

    def _finished(self, sub: Submission, cfut: Future[Any], wrapped: asyncio.Future[Any]) -> None:
        if not wrapped.cancelled():
            wrapped.exception()  # read here; the outcome is passed on from cfut below
        slot, call = sub.slot, sub.call
        crashed = not cfut.cancelled() and isinstance(cfut.exception(), BrokenProcessPool)
        started = slot.board.started_seq() >= sub.seq
        if sub in slot.outstanding:
            slot.outstanding.remove(sub)
        if crashed and not slot.dead:
            log.warning("worker died during a task; replacing it", extra={"slot": slot.index})
            self._replace(slot)
        elif slot.condemned and not slot.outstanding:
            self._replace(slot)  # its last task finished just before the kill landed
        if sub.withdrawn or call.current is not sub or call.result.done():
            pass  # taken back (and run elsewhere) or abandoned: nobody waits for this answer
        elif crashed and not started:
            # Only queued behind the task that killed the worker: it never ran, run it elsewhere.
            call.current = None
            self._queues[call.lane].appendleft(call)
        elif crashed:
            call.result.set_exception(WorkerCrashed())
        elif cfut.cancelled():
            call.result.set_exception(PoolClosed())
        elif cfut.exception() is not None:
            call.result.set_exception(cfut.exception())  # type: ignore[arg-type]
        else:
            call.result.set_result(cfut.result())
        self._dispatch()

    # --- worker lifecycle ----------------------------------------------------------------------
    def _replace(self, dead: Slot) -> None:
        if dead.dead:
            return
        dead.dead = True
        if self._closing:
            return
        metrics.WORKER_RESTARTS.inc()
        dead.kill()
        dead.shutdown()
        fresh = Slot(self._context, dead.index)
        self._slots = [fresh if s is dead else s for s in self._slots]
        task = asyncio.get_running_loop().create_task(self._warm(fresh))
        self._restarting.add(task)
        task.add_done_callback(self._restarting.discard)

    async def _warm(self, slot: Slot) -> None:
        delay = 0.1
        while not self._closing:
            try:
                await asyncio.wrap_future(slot.warm())
                slot.ready = True
                self._dispatch()
                return
            except (BrokenProcessPool, RuntimeError, OSError):
                log.error("replacement worker failed to start; retrying", extra={"retry_in_s": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                slot.shutdown()
                replacement = Slot(self._context, slot.index)
                self._slots = [replacement if s is slot else s for s in self._slots]
                slot = replacement

    def check_workers(self) -> None:
        """Kill and replace workers that run past a deadline, are stopped, or died while idle."""
        now = time.time()
        for slot in list(self._slots):
            if slot.dead or not slot.ready:
                continue
            reason = watchdog.verdict(slot, now)
            if reason is not None:
                self._condemn(slot, reason)

    def _condemn(self, slot: Slot, reason: str) -> None:
        if slot.dead or slot.condemned:
            return
        slot.ready = False  # takes no more work; replaced once its tasks have failed over
        slot.condemned = True
        log.warning("replacing a worker", extra={"slot": slot.index, "reason": reason})
        metrics.WORKER_KILLS.labels(reason).inc()
        if reason != "died":
            slot.kill()  # its tasks fail with BrokenProcessPool; _finished re-runs queued ones
        if not slot.outstanding:
            self._replace(slot)
