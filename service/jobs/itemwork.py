"""One leased job item carried to its end on this replica: run on the pool through the grid
executor (the same one /api/batch uses), its lease renewed meanwhile, abandoned at once when the
job is deleted, its result published (or its failure recorded) only while the lease is still
ours, and released for another replica when it did not settle."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time

from .. import metrics
from ..errors import DEADLINE_EXCEEDED, INTERNAL_ERROR, STORAGE_FULL, ServiceError
from ..grid.executor import GridExecutor
from ..imaging.errors import ImageError
from ..imaging.formats import OutputFormat
from ..imaging.tasks import RasterTarget
from ..pool import DeadlineExceeded, Overloaded, PoolClosed, WorkerCrashed
from ..settings import Settings
from .items import ItemId, ItemKind
from .leases import Lease, release, renew
from .model import ItemError, JobManifest, OutputItem
from .store import JobStore

__all__ = ["ItemWork"]

log = logging.getLogger("service.jobs")
_JOB_CHECK_SECONDS = 1.0  # how soon the item of a deleted job frees its worker


class ItemWork:
    def __init__(self, store: JobStore, executor: GridExecutor, settings: Settings) -> None:
        self.store = store
        self.executor = executor
        self.settings = settings

    async def carry(self, job_id: str, item: ItemId, lease: Lease) -> None:
        """Run the item; whatever happens, leave it settled here or released for another replica."""
        holder = asyncio.current_task()
        assert holder is not None
        renewer = asyncio.create_task(self._renew(job_id, lease, holder))
        settled = False
        kind = item.kind.value
        try:
            manifest = await asyncio.to_thread(self.store.manifest, job_id)
            if manifest is not None:
                settled = await self._run(manifest, item, lease, renewer)
                metrics.JOB_ITEMS.labels(kind, "done" if settled else "interrupted").inc()
        except _ItemFailed as failure:
            settled = failure.recorded
            metrics.JOB_ITEMS.labels(kind, "failed").inc()
        except (PoolClosed, Overloaded, asyncio.CancelledError):
            pass  # shutting down, or the idle worker went meanwhile: released below for another replica
        except Exception as exc:  # e.g. the disk full: fail the item rather than retry it forever
            log.exception("job item failed unexpectedly", extra={"job": job_id, "item": str(item)})
            full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
            code = STORAGE_FULL if full else INTERNAL_ERROR
            error = ItemError(code.name, f"The item failed: {type(exc).__name__}: {exc}"[:500])
            settled = await asyncio.shield(self._record(job_id, item, lease, renewer, error))
            metrics.JOB_ITEMS.labels(kind, "failed").inc()
        finally:
            renewer.cancel()
            if not settled:
                await asyncio.shield(asyncio.to_thread(release, lease))

    async def _renew(self, job_id: str, lease: Lease, holder: asyncio.Task[None]) -> None:
        """Renew the lease every quarter lease; every second, check the job still exists: the
        item of a deleted job is abandoned at once (its worker freed), not run to its end."""
        interval = self.settings.job_lease_seconds / 4
        next_renewal = time.monotonic() + interval
        while True:
            await asyncio.sleep(min(_JOB_CHECK_SECONDS, interval))
            if not await asyncio.to_thread(self.store.exists, job_id):
                holder.cancel()
                return
            if time.monotonic() >= next_renewal:
                next_renewal += interval
                if not await asyncio.to_thread(renew, lease):
                    return  # superseded: the result will be dropped

    async def _run(self, manifest: JobManifest, item: ItemId, lease: Lease, renewer: asyncio.Task[None]) -> bool:
        job_id, store = manifest.id, self.store
        deadline = time.time() + self.settings.job_item_timeout_seconds
        out: OutputItem | None = None
        if item.kind is ItemKind.ENCODE:
            out = manifest.outputs[item.index]
            if await asyncio.to_thread(store.has_output, job_id, out.name):
                return True  # already on disk: never made twice
        try:
            await self.executor.pool.wait_background_slot()
            if out is None:
                decode = manifest.decodes[item.index]
                targets = [RasterTarget(w, store.raster_path(job_id, name)) for w, name in decode.rasters]
                await self.executor.decode(store.input_path(job_id), manifest.options, decode.top, targets, deadline)
            else:
                encoded = await self.executor.encode(
                    store.raster_path(job_id, out.raster),
                    manifest.options,
                    out.quality,
                    OutputFormat(out.format),
                    manifest.original.format,
                    deadline,
                    output_dir=store.outputs_dir(job_id),
                    max_bytes=out.max_bytes or None,
                )
        except (ImageError, DeadlineExceeded, WorkerCrashed) as exc:
            raise _ItemFailed(await self._record(job_id, item, lease, renewer, self._item_error(exc))) from None
        except FileNotFoundError:
            return False  # the job was deleted while the item ran
        still_ours = not renewer.done() and await asyncio.to_thread(renew, lease)
        if out is None:
            if still_ours:
                await asyncio.to_thread(store.mark_decoded, job_id, item)
            return still_ours
        if encoded.written is None:
            return False
        if not still_ours:
            await asyncio.to_thread(_discard, encoded.written)
            return False
        if encoded.score is not None:  # before the output appears, so a done output has its score
            await asyncio.to_thread(store.record_score, job_id, out.name, encoded.score)
        await asyncio.to_thread(store.publish, job_id, encoded.written, out.name)
        return True

    async def _record(
        self, job_id: str, item: ItemId, lease: Lease, renewer: asyncio.Task[None], error: ItemError
    ) -> bool:
        """Record why an item failed, if it is still ours to settle."""
        if renewer.done() or not await asyncio.to_thread(renew, lease):
            return False
        try:
            await asyncio.to_thread(self.store.record_error, job_id, item, error)
        except OSError:
            return False
        return True

    def _item_error(self, exc: Exception) -> ItemError:
        if isinstance(exc, DeadlineExceeded):
            limit = self.settings.job_item_timeout_seconds
            return ItemError(
                DEADLINE_EXCEEDED.name, f"The item did not finish within JOB_ITEM_TIMEOUT_SECONDS ({limit:g} s)"
            )
        if isinstance(exc, WorkerCrashed):
            return ItemError("worker_crashed", str(exc))
        return ItemError(exc.code.name if isinstance(exc, ServiceError) else "failed", str(exc))


class _ItemFailed(Exception):
    def __init__(self, recorded: bool) -> None:
        self.recorded = recorded


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
