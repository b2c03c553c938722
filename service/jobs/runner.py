"""The jobs of this replica: takes submissions (quotas, probe, layout, manifest, storage) and
answers for any job on shared storage; finds items any replica may do, leases them and hands each
to ItemWork (itemwork.py), which runs it on this replica's pool in the BACKGROUND lane.

Scheduling: an item is dispatched only when the pool says a worker is fully idle and nobody waits
(`wait_background_slot`), and this replica never holds more items than its JOB_WORKER_SHARE of
the workers, so single conversions are never starved. Decodes of a job come before its encodes;
jobs are served oldest first. When draining starts (SIGTERM) the runner stops claiming and
releases every held item at once, so another replica carries it on while this one still drains
requests (a Spot task has two minutes, an item may take five). On ECS, the task is protected from
scale-in while it holds items (service/ecs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from .. import ecs, metrics
from ..engine import Engine
from ..grid.executor import GridExecutor
from ..grid.layout import check_output_pixels, layout_grid
from ..pool import Lane, PoolClosed, background_limit
from .errors import JobNotFinished, JobNotFound, NotAcceptingJobs, OutputNotFound, StorageFull, TooManyJobs
from .items import ItemId, decode_item, encode_item
from .itemwork import ItemWork
from .leases import Lease, LeaseWatch, try_claim
from .manifest import build_manifest
from .model import JobManifest, JobSubmission
from .progress import JobProgress, JobSnapshot, JobState, job_progress
from .quota import Ledger, stored_bytes
from .store import JobStore, new_job_id

__all__ = ["Candidate", "FinishedOutputs", "JobRunner"]

log = logging.getLogger("service.jobs")
POLL_SECONDS = 0.5
SWEEP_SECONDS = 10.0


class Candidate(msgspec.Struct, frozen=True):
    job_id: str
    item: ItemId
    generation: int
    taken_over: bool


class FinishedOutputs(msgspec.Struct, frozen=True):
    manifest: JobManifest
    files: tuple[tuple[str, Path], ...]  # (output name, its file), in manifest order
    complete: bool  # the job has settled: no more outputs will appear


class JobRunner:
    def __init__(self, store: JobStore, engine: Engine, draining: Callable[[], bool]) -> None:
        self.store = store
        self.engine = engine
        self.pool = engine.pool
        self.settings = settings = engine.settings
        self._draining = draining
        # Items this replica holds at once: the pool's own BACKGROUND limit, so the runner never
        # claims an item the pool would only queue.
        self.share = background_limit(engine.pool.size, settings.job_worker_share)
        self.watch = LeaseWatch(settings.job_lease_seconds)
        self.work = ItemWork(store, GridExecutor(engine.pool, engine.limits, Lane.BACKGROUND), settings)
        self.held: dict[tuple[str, ItemId], asyncio.Task[None]] = {}
        self.ledger = Ledger(settings.max_storage_bytes)
        self.bytes_stored = 0  # measured by the sweep (the metric); admission counts the ledger's plan
        self._settled: dict[str, tuple[JobState, int]] = {}  # finished jobs: final status and bytes, not rescanned
        self._wake = asyncio.Event()
        self._stopping = False
        self._drain_started: float | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.protection = ecs.protection_for(settings.ecs_agent_uri, settings.job_item_timeout_seconds)

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.store.ensure)
        await self._sweep()
        _, seen = await asyncio.to_thread(self._scan, time.time(), time.monotonic())
        self.ledger.observe(seen)  # jobs already on storage count before the first submission
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="jobs-claim"),
            asyncio.create_task(self._sweep_loop(), name="jobs-sweep"),
        ]
        if self.protection is not None:
            follow = self.protection.follow(lambda: bool(self.held), lambda: self._stopping or self._draining())
            self._tasks.append(asyncio.create_task(follow, name="jobs-protection"))

    @property
    def accepting(self) -> bool:
        return not self._stopping and not self._draining()

    def check_accepting(self) -> None:
        """Refuse a submission before its upload is read when this replica is shutting down."""
        if not self.accepting:
            raise NotAcceptingJobs()

    async def stop(self, budget: float) -> None:
        """Stop claiming and release what is still held (at most `budget` seconds to write the
        releases), so another replica claims it at once."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await self._release_held(min(budget, 10.0))
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _release_held(self, timeout: float) -> None:
        """Interrupt every held item; each releases its lease on the way out (ItemWork.carry)."""
        held = list(self.held.values())
        if not held:
            return
        log.info("draining job items: released at once for other replicas", extra={"items": len(held)})
        for task in held:
            task.cancel()
        await asyncio.wait(held, timeout=max(1.0, timeout))

    # --- submission and queries (the HTTP layer's calls) --------------------------------------
    async def submit(self, submission: JobSubmission) -> JobProgress:
        """Store a new job for any replica to carry on, or refuse it now: over quota (its plan's
        storage included), this replica shutting down, or an upload whose header the limits refuse.
        Reads the header only: answers within a second, whatever the image."""
        settings, engine, ledger, size = self.settings, self.engine, self.ledger, len(submission.data)
        self.check_accepting()
        job_id = new_job_id()
        # Check and reserve with no await between: submissions arriving together each see the others.
        if not ledger.fits(job_id, size):
            raise StorageFull(ledger.committed + size, settings.max_storage_bytes)
        if ledger.active >= settings.max_active_jobs:
            raise TooManyJobs(settings.max_active_jobs)
        ledger.reserve(job_id, size)
        try:
            async with engine.admission():  # a flood of submissions is refused like any other request
                probed = await engine.probe(submission.data, engine.deadline_from_now(), validate=True)
                # Decode groups split only as far as this replica's job share can run them side by side.
                layout = layout_grid(probed, submission.request, max(1, self.share))
                check_output_pixels(layout, settings.max_job_output_pixels, "job", "MAX_JOB_OUTPUT_PIXELS")
                now = time.time()
                manifest = build_manifest(
                    job_id, now, settings.job_ttl_seconds, submission.request, layout, submission.stem, size
                )
                if not ledger.fits(job_id, manifest.reserved_bytes):
                    raise StorageFull(
                        ledger.committed - size + manifest.reserved_bytes, settings.max_storage_bytes, planned=True
                    )
                ledger.reserve(job_id, manifest.reserved_bytes)
                await asyncio.to_thread(self.store.create, manifest, submission.data)
        except BaseException:
            ledger.release(job_id)
            raise
        self.bytes_stored += size
        progress = await asyncio.to_thread(self.store.progress, manifest.id, now)
        assert progress is not None
        return progress

    @property
    def active_jobs(self) -> int:
        """Unfinished jobs: on storage at the last scan, plus those submitted here since."""
        return self.ledger.active

    async def progress(self, job_id: str) -> JobProgress:
        progress = await asyncio.to_thread(self.store.progress, job_id, time.time())
        if progress is None:
            raise JobNotFound()
        return progress

    async def output_file(self, job_id: str, name: str) -> tuple[Path, str]:
        """A finished output's file and format; JobNotFound, or OutputNotFound (not one of this
        job's outputs, or not finished yet)."""
        now = time.time()
        found = await asyncio.to_thread(self.store.output_file, job_id, name, now)
        if found is None:
            manifest = await asyncio.to_thread(self.store.live_manifest, job_id, now)
            if manifest is None:
                raise JobNotFound()
            raise OutputNotFound(name, manifest.output(name) is not None)
        return found

    async def finished_outputs(self, job_id: str, partial: bool = False) -> FinishedOutputs:
        """Every finished output's file; JobNotFound, or JobNotFinished while the job is queued or
        running (unless `partial`: then what is done so far)."""
        now = time.time()
        progress = await asyncio.to_thread(self.store.progress, job_id, now)
        if progress is None:
            raise JobNotFound()
        complete = progress.state in ("done", "failed")
        if not complete and not partial:
            raise JobNotFinished(progress.state)
        files = await asyncio.to_thread(self.store.finished_outputs, job_id, now)
        return FinishedOutputs(progress.manifest, tuple(files), complete)

    async def cancel(self, job_id: str) -> JobProgress:
        """Remove the job for every replica; answers its progress just before. An item running
        here is abandoned within a second (ItemWork), one elsewhere when that replica notices."""
        progress = await asyncio.to_thread(self.store.progress, job_id, time.time())
        if progress is None or not await asyncio.to_thread(self.store.remove, job_id):
            raise JobNotFound()
        self.ledger.release(job_id)
        return progress

    # --- finding work --------------------------------------------------------------------------
    async def _claim_loop(self) -> None:
        while not self._stopping:
            try:
                await self._claim_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # storage hiccup (NFS) or a bug: log it and keep serving jobs
                log.exception("job claim loop failed; retrying")
                await self._sleep(POLL_SECONDS * 4)

    async def _claim_once(self) -> None:
        if self._draining():
            if self._drain_started is None:
                self._drain_started = time.monotonic()
                log.info("draining: no more job items are claimed here")
                await self._release_held(10.0)
            await self._sleep(POLL_SECONDS)
            return
        candidates, seen = await asyncio.to_thread(self._scan, time.time(), time.monotonic())
        self.ledger.observe(seen)  # here, on the loop: the ledger is never touched from a thread
        if not candidates or len(self.held) >= self.share:
            await self._sleep(POLL_SECONDS)
            return
        try:
            await asyncio.wait_for(self.pool.wait_background_slot(), POLL_SECONDS)
        except TimeoutError:
            return
        except PoolClosed:
            await self._sleep(POLL_SECONDS)
            return
        if self._draining() or self._stopping:
            return
        for candidate in candidates:
            lease = await asyncio.to_thread(
                try_claim,
                self.store.leases_dir(candidate.job_id),
                str(candidate.item),
                candidate.generation,
                taken_over=candidate.taken_over,
            )
            if lease is not None:
                self._start(candidate.job_id, candidate.item, lease)
                break

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _scan(self, now: float, mono: float) -> tuple[list[Candidate], dict[str, tuple[bool, int]]]:
        """Read every job once: metrics, completion, the items this replica could claim, and each
        job's storage for the ledger (unfinished: its plan's reservation; settled: what it keeps)."""
        candidates: list[Candidate] = []
        seen: dict[str, tuple[bool, int]] = {}
        statuses = dict.fromkeys(metrics.JOB_STATUSES, 0)
        pending = running = 0
        oldest_waiting: float | None = None
        manifests: list[JobManifest] = []
        ids = self.store.job_ids()
        self.store.forget_except(ids)
        for job_id in [i for i in self._settled if i not in ids]:
            del self._settled[job_id]
            self.watch.forget_job(job_id)
        for job_id in ids:
            if job_id in self._settled:
                state, kept = self._settled[job_id]
                statuses[state] += 1
                seen[job_id] = (False, kept)
                continue
            manifest = self.store.live_manifest(job_id, now)
            if manifest is not None:
                manifests.append(manifest)
        for manifest in sorted(manifests, key=lambda m: m.created):
            snap = self.store.snapshot(manifest.id, now)
            if snap is None:
                continue
            state = job_progress(snap).state
            statuses[state] += 1
            if snap.settled():
                seen[manifest.id] = (False, self._settle(snap, state, now))
                continue
            seen[manifest.id] = (True, manifest.reserved_bytes or stored_bytes(snap))
            job_pending, job_running = self._job_candidates(snap, mono, candidates)
            pending += job_pending
            running += job_running
            if job_pending and oldest_waiting is None:  # oldest first: the first job that waits
                oldest_waiting = manifest.created
        for word, count in statuses.items():
            metrics.JOBS.labels(word).set(count)
        metrics.JOB_ITEMS_PENDING.set(pending)
        metrics.JOB_ITEMS_RUNNING.set(running)
        metrics.JOB_BACKLOG_AGE.set(0.0 if oldest_waiting is None else max(0.0, now - oldest_waiting))
        return candidates, seen

    def _settle(self, snap: JobSnapshot, state: JobState, now: float) -> int:
        kept = stored_bytes(snap)
        self._settled[snap.manifest.id] = (state, kept)
        self.watch.forget_job(snap.manifest.id)
        if self.store.mark_finished(snap.manifest.id):  # exactly one replica observes each job's duration
            metrics.JOB_DURATION.observe(max(0.0, now - snap.manifest.created))
        return kept

    def _job_candidates(self, snap: JobSnapshot, mono: float, out: list[Candidate]) -> tuple[int, int]:
        m = snap.manifest
        pending = running = 0
        items: list[ItemId] = []
        for k in range(len(m.decodes)):
            item = decode_item(k)
            if item not in snap.decoded and item not in snap.errors:
                items.append(item)
        for i, o in enumerate(m.outputs):
            if o.name in snap.outputs or snap.output_error(i) is not None:
                continue
            if decode_item(o.decode) not in snap.decoded:
                pending += 1  # waits for its raster
                continue
            items.append(encode_item(i))
        for item in items:
            view = snap.claims.get(item)
            if (m.id, item) in self.held:
                running += 1
            elif view is None:
                pending += 1
                out.append(Candidate(m.id, item, 0, False))
            elif view.released:
                pending += 1
                out.append(Candidate(m.id, item, view.generation + 1, False))
            elif self.watch.stale(m.id, str(item), view, mono):
                pending += 1
                out.append(Candidate(m.id, item, view.generation + 1, True))
            else:
                running += 1
        return pending, running

    # --- doing work ----------------------------------------------------------------------------
    def _start(self, job_id: str, item: ItemId, lease: Lease) -> None:
        if lease.taken_over:
            metrics.JOB_ITEMS_RECLAIMED.inc()
            log.warning("claimed a job item whose lease lapsed", extra={"job": job_id, "item": str(item)})
        task = asyncio.create_task(self._hold(job_id, item, lease), name=f"job-item-{item}")
        self.held[(job_id, item)] = task
        metrics.JOB_ITEMS_HELD.set(len(self.held))

    async def _hold(self, job_id: str, item: ItemId, lease: Lease) -> None:
        try:
            await self.work.carry(job_id, item, lease)
        finally:
            del self.held[(job_id, item)]
            metrics.JOB_ITEMS_HELD.set(len(self.held))
            self._wake.set()

    # --- housekeeping --------------------------------------------------------------------------
    async def _sweep_loop(self) -> None:
        interval = min(SWEEP_SECONDS, max(1.0, self.settings.job_ttl_seconds / 4))
        while not self._stopping:
            await asyncio.sleep(interval)
            await self._sweep()

    async def _sweep(self) -> None:
        try:
            removed = await asyncio.to_thread(self.store.sweep, time.time())
            self.bytes_stored = await asyncio.to_thread(self.store.bytes_stored)
            self.ledger.beside = await asyncio.to_thread(self.store.bytes_beside_jobs)
        except OSError:
            log.exception("job storage sweep failed")
            return
        metrics.JOB_STORAGE_BYTES.set(self.bytes_stored)
        if removed:
            log.info("removed expired jobs", extra={"jobs": removed})
