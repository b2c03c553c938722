"""Works on jobs from shared storage: finds items any replica may do, claims them, runs them on
this replica's pool in the BACKGROUND lane, renews their leases, publishes their results.

Scheduling: an item is dispatched only when the pool says a worker is fully idle and nobody waits
(`wait_background_slot`), and this replica never holds more items than its JOB_WORKER_SHARE of
the workers, so single conversions are never starved. Decodes of a job come before its encodes;
jobs are served oldest first. On shutdown the runner stops claiming at once, lets held items
finish within the drain budget and releases the rest, so another replica carries them on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

import msgspec

from .. import metrics
from ..imaging.errors import ImageError
from ..imaging.gridwork import run_decode_group, run_encode_file
from ..imaging.tasks import DecodeGroupTask, Encoded, EncodeFileTask, Limits, RasterTarget
from ..pool import DeadlineExceeded, Lane, Overloaded, PoolClosed, WorkerCrashed, WorkerPool
from ..settings import Settings
from .leases import Lease, LeaseWatch, release, renew, try_claim
from .model import ItemError, JobManifest
from .store import JobSnapshot, JobStore, decode_item, encode_item, status_document

log = logging.getLogger("service.jobs")
POLL_SECONDS = 0.5
SWEEP_SECONDS = 10.0


def background_limit(workers: int, share: float) -> int:
    """Items this replica holds at once: ceil(share x workers), never every worker when there are
    two or more, at least one. The same rule the pool applies to the BACKGROUND lane (reliability
    branch), so the runner never claims an item the pool would only queue."""
    limit = max(1, math.ceil(share * workers - 1e-9))
    return min(limit, workers - 1) if workers >= 2 else 1


class Candidate(msgspec.Struct, frozen=True):
    job_id: str
    item: str
    generation: int
    taken_over: bool


class JobRunner:
    def __init__(
        self, store: JobStore, pool: WorkerPool, settings: Settings, limits: Limits, draining: Callable[[], bool]
    ) -> None:
        self.store = store
        self.pool = pool
        self.settings = settings
        self.limits = limits
        self._draining = draining
        self.share = background_limit(settings.workers, settings.job_worker_share)
        self.watch = LeaseWatch(settings.job_lease_seconds)
        self.held: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.active_jobs = 0  # unfinished jobs at the last scan (admission of new ones)
        self.bytes_stored = 0
        self._settled: dict[str, str] = {}  # finished jobs: their final status, not rescanned
        self._wake = asyncio.Event()
        self._stopping = False
        self._drain_started: float | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await asyncio.to_thread(self.store.ensure)
        await self._sweep()
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="jobs-claim"),
            asyncio.create_task(self._sweep_loop(), name="jobs-sweep"),
        ]

    @property
    def accepting(self) -> bool:
        return not self._stopping and not self._draining()

    async def stop(self, budget: float) -> None:
        """Stop claiming; give held items until `budget` seconds after draining began, then
        release what is left so another replica claims it at once."""
        self._stopping = True
        self._wake.set()
        started = self._drain_started if self._drain_started is not None else time.monotonic()
        for task in self._tasks:
            task.cancel()
        held = list(self.held.values())
        if held:
            remaining = max(0.0, started + budget - time.monotonic())
            log.info("draining job items", extra={"items": len(held), "budget_s": round(remaining, 1)})
            _, unfinished = await asyncio.wait(held, timeout=remaining)
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=5)
        await asyncio.gather(*self._tasks, return_exceptions=True)

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
            await self._sleep(POLL_SECONDS)
            return
        candidates = await asyncio.to_thread(self._scan, time.time(), time.monotonic())
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
            claim = await asyncio.to_thread(
                try_claim,
                str(self.store.job_dir(candidate.job_id) / "claims"),
                candidate.item,
                candidate.generation,
                taken_over=candidate.taken_over,
            )
            if claim is not None:
                self._start(candidate.job_id, claim)
                break

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _scan(self, now: float, mono: float) -> list[Candidate]:
        """Read every job once: metrics, completion, and the items this replica could claim."""
        candidates: list[Candidate] = []
        statuses = dict.fromkeys(metrics.JOB_STATUSES, 0)
        pending = running = active = 0
        manifests: list[JobManifest] = []
        ids = self.store.job_ids()
        self.store.forget_except(ids)
        for job_id in [i for i in self._settled if i not in ids]:
            del self._settled[job_id]
            self.watch.forget_job(job_id)
        for job_id in ids:
            if job_id in self._settled:
                statuses[self._settled[job_id]] += 1
                continue
            manifest = self.store.live_manifest(job_id, now)
            if manifest is not None:
                manifests.append(manifest)
        for manifest in sorted(manifests, key=lambda m: m.created):
            snap = self.store.snapshot(manifest.id, now)
            if snap is None:
                continue
            status = status_document(snap).status
            statuses[status] += 1
            if snap.settled():
                self._settle(snap, status, now)
                continue
            active += 1
            job_pending, job_running = self._job_candidates(snap, mono, candidates)
            pending += job_pending
            running += job_running
        for status, count in statuses.items():
            metrics.JOBS.labels(status).set(count)
        metrics.JOB_ITEMS_PENDING.set(pending)
        metrics.JOB_ITEMS_RUNNING.set(running)
        self.active_jobs = active
        return candidates

    def _settle(self, snap: JobSnapshot, status: str, now: float) -> None:
        self._settled[snap.manifest.id] = status
        self.watch.forget_job(snap.manifest.id)
        if self.store.mark_finished(snap.manifest.id):  # exactly one replica observes each job's duration
            metrics.JOB_DURATION.observe(max(0.0, now - snap.manifest.created))

    def _job_candidates(self, snap: JobSnapshot, mono: float, out: list[Candidate]) -> tuple[int, int]:
        m = snap.manifest
        pending = running = 0
        items: list[str] = []
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
            elif self.watch.stale(m.id, item, view, mono):
                pending += 1
                out.append(Candidate(m.id, item, view.generation + 1, True))
            else:
                running += 1
        return pending, running

    # --- doing work ----------------------------------------------------------------------------
    def _start(self, job_id: str, claim: Lease) -> None:
        if claim.taken_over:
            metrics.JOB_ITEMS_RECLAIMED.inc()
            log.warning("claimed a job item whose lease lapsed", extra={"job": job_id, "item": claim.item})
        task = asyncio.create_task(self._hold(job_id, claim), name=f"job-item-{claim.item}")
        self.held[(job_id, claim.item)] = task
        metrics.JOB_ITEMS_HELD.set(len(self.held))

    async def _hold(self, job_id: str, claim: Lease) -> None:
        holder = asyncio.current_task()
        assert holder is not None
        renewer = asyncio.create_task(self._renew(job_id, claim, holder))
        settled = False
        kind = "decode" if claim.item.startswith("d") else "encode"
        try:
            manifest = self.store.manifest(job_id)
            if manifest is not None:
                settled = await self._run_item(manifest, claim, renewer)
                metrics.JOB_ITEMS.labels(kind, "done" if settled else "interrupted").inc()
        except _ItemFailed as failure:
            settled = failure.recorded
            metrics.JOB_ITEMS.labels(kind, "failed").inc()
        except (PoolClosed, Overloaded, asyncio.CancelledError):
            pass  # shutting down, or the idle worker went meanwhile: released below for another replica
        except Exception as exc:  # e.g. storage full: fail the item rather than retry it forever
            log.exception("job item failed unexpectedly", extra={"job": job_id, "item": claim.item})
            error = ItemError("internal_error", f"The item failed: {type(exc).__name__}: {exc}"[:500])
            settled = await asyncio.shield(self._record(job_id, claim, renewer, error))
            metrics.JOB_ITEMS.labels(kind, "failed").inc()
        finally:
            renewer.cancel()
            if not settled:
                await asyncio.shield(asyncio.to_thread(release, claim))
            del self.held[(job_id, claim.item)]
            metrics.JOB_ITEMS_HELD.set(len(self.held))
            self._wake.set()

    async def _renew(self, job_id: str, claim: Lease, holder: asyncio.Task[None]) -> None:
        """Renew the lease every quarter lease; every second, check the job still exists: the
        item of a deleted job is abandoned at once (its worker freed), not run to its end."""
        interval = self.settings.job_lease_seconds / 4
        next_renewal = time.monotonic() + interval
        job_dir = self.store.job_dir(job_id)
        while True:
            await asyncio.sleep(min(1.0, interval))
            if not await asyncio.to_thread(job_dir.is_dir):
                holder.cancel()
                return
            if time.monotonic() >= next_renewal:
                next_renewal += interval
                if not await asyncio.to_thread(renew, claim):
                    return  # superseded: the result will be dropped

    async def _run_item(self, manifest: JobManifest, claim: Lease, renewer: asyncio.Task[None]) -> bool:
        base = self.store.job_dir(manifest.id)
        deadline = time.time() + self.settings.job_item_timeout_seconds
        fn: Callable[[Any], Any]
        job: Any
        if claim.item.startswith("d"):
            decode = manifest.decodes[int(claim.item[1:])]
            options = msgspec.structs.replace(manifest.options, width=decode.top)
            targets = tuple(RasterTarget(w, str(base / "rasters" / name)) for w, name in decode.rasters)
            fn, job = run_decode_group, DecodeGroupTask(str(base / "input"), options, targets, self.limits, deadline)
        else:
            out = manifest.outputs[int(claim.item[1:])]
            if await asyncio.to_thread((base / "outputs" / out.name).exists):
                return True  # already on disk: never made twice
            options = msgspec.structs.replace(manifest.options, quality=out.quality, format=out.format)
            fn, job = (
                run_encode_file,
                EncodeFileTask(
                    str(base / "rasters" / out.raster), out.format, options, deadline, output_dir=str(base / "outputs")
                ),
            )
        try:
            await self.pool.wait_background_slot()
            result = await self.pool.run(fn, job, deadline, lane=Lane.BACKGROUND)
        except (ImageError, DeadlineExceeded, WorkerCrashed) as exc:
            raise _ItemFailed(await self._fail(manifest.id, claim, renewer, exc)) from None
        except FileNotFoundError:
            return False  # the job was deleted while the item ran
        still_ours = not renewer.done() and await asyncio.to_thread(renew, claim)
        if isinstance(result, Encoded):
            if result.written is None:
                return False
            if not still_ours:
                await asyncio.to_thread(_discard, result.written)
                return False
            if result.score is not None:  # before the output appears, so a done output has its score
                await asyncio.to_thread(self.store.record_score, manifest.id, out_name(manifest, claim), result.score)
            await asyncio.to_thread(self.store.publish, manifest.id, result.written, out_name(manifest, claim))
            metrics.record_conversion(
                manifest.original.format, result.format, 0, result.size, None, result.encode_seconds
            )
            return True
        if still_ours:
            await asyncio.to_thread(self.store.mark_decoded, manifest.id, claim.item)
        return still_ours

    async def _fail(self, job_id: str, claim: Lease, renewer: asyncio.Task[None], exc: Exception) -> bool:
        return await self._record(job_id, claim, renewer, self._item_error(exc))

    async def _record(self, job_id: str, claim: Lease, renewer: asyncio.Task[None], error: ItemError) -> bool:
        """Record why an item failed, if it is still ours to settle."""
        if renewer.done() or not await asyncio.to_thread(renew, claim):
            return False
        try:
            await asyncio.to_thread(self.store.record_error, job_id, claim.item, error)
        except OSError:
            return False
        return True

    def _item_error(self, exc: Exception) -> ItemError:
        if isinstance(exc, DeadlineExceeded):
            limit = self.settings.job_item_timeout_seconds
            return ItemError(
                "deadline_exceeded", f"The item did not finish within JOB_ITEM_TIMEOUT_SECONDS ({limit:g} s)"
            )
        if isinstance(exc, WorkerCrashed):
            return ItemError("worker_crashed", str(exc))
        kind = getattr(exc, "kind", None)
        return ItemError(str(getattr(kind, "value", "failed")), str(exc))

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
        except OSError:
            log.exception("job storage sweep failed")
            return
        metrics.JOB_STORAGE_BYTES.set(self.bytes_stored)
        if removed:
            log.info("removed expired jobs", extra={"jobs": removed})


class _ItemFailed(Exception):
    def __init__(self, recorded: bool) -> None:
        self.recorded = recorded


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def out_name(manifest: JobManifest, claim: Lease) -> str:
    return manifest.outputs[int(claim.item[1:])].name
