"""The jobs runner against a real local store and a real pool: submission and its refusals, a job
run to done, a deleted job's item abandoned at once, a lapsed lease taken over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import pyvips
from realpool import photo_jpeg, sample, until, with_engine

from service import metrics
from service.engine import Engine
from service.grid.layout import Grid, GridRequest, layout_grid
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed
from service.jobs.errors import JobNotFound, NotAcceptingJobs, OutputNotFound, StorageFull, TooManyJobs
from service.jobs.items import decode_item
from service.jobs.leases import current_leases, renew, try_claim
from service.jobs.manifest import build_manifest
from service.jobs.model import JobSubmission
from service.jobs.runner import JobRunner
from service.jobs.store import JobStore, new_job_id
from service.pool import background_limit

SOURCE = photo_jpeg(800, 600)
SMALL = GridRequest(ConvertOptions(), Grid((400, 200), (50, 80), (OutputFormat.JPEG, OutputFormat.WEBP)))


def submission(request: GridRequest = SMALL, data: bytes = SOURCE) -> JobSubmission:
    return JobSubmission(data, "photo", request)


def test_a_submitted_job_runs_to_done_and_its_outputs_are_served(tmp_path: Path):
    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        assert runner.share == background_limit(engine.settings.workers, engine.settings.job_worker_share)
        await runner.start()
        try:
            progress = await runner.submit(submission())
            assert progress.state == "queued" and progress.total == 8
            assert runner.active_jobs == 1 and runner.bytes_stored >= len(SOURCE)
            deadline = time.monotonic() + 60
            while (done := await runner.progress(progress.id)).state not in ("done", "failed"):
                assert time.monotonic() < deadline, done.state
                await asyncio.sleep(0.05)
            assert (done.done, done.failed) == (8, 0)
            for out in done.outputs:
                path, fmt = await runner.output_file(progress.id, out.item.name)
                image = pyvips.Image.new_from_file(str(path))
                assert (image.width, image.height, fmt) == (out.item.width, out.item.height, out.item.format)
            finished = await runner.finished_outputs(progress.id)
            assert [name for name, _ in finished.files] == [o.name for o in finished.manifest.outputs]
            with pytest.raises(OutputNotFound):
                await runner.output_file(progress.id, "job.json")
            await until(lambda: (tmp_path / progress.id / "finished").exists(), what="the scan to settle the job")
            assert not (tmp_path / progress.id / "rasters").exists()
        finally:
            await runner.stop(5)

    with_engine(body)


def test_submissions_over_a_quota_or_while_draining_are_refused(tmp_path: Path):
    draining = False

    async def body(engine: Engine) -> None:
        nonlocal draining
        runner = JobRunner(JobStore(tmp_path), engine, lambda: draining)
        await runner.start()
        try:
            with pytest.raises(StorageFull):
                await runner.submit(submission(data=b"x" * 5_000_000))
            await runner.submit(submission())
            with pytest.raises(TooManyJobs):
                await runner.submit(submission())
            runner.check_accepting()
            draining = True
            with pytest.raises(NotAcceptingJobs):
                runner.check_accepting()  # what the handler asks before reading an upload
            with pytest.raises(NotAcceptingJobs):
                await runner.submit(submission())
            assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1
        finally:
            await runner.stop(5)

    with_engine(body, max_active_jobs=1, max_storage_bytes=4_000_000)  # the small job's plan fits, 5 MB does not


def test_a_deleted_job_abandons_its_running_item_at_once(tmp_path: Path):
    slow = pyvips.Image.gaussnoise(1600, 1200, sigma=60, mean=128).bandjoin([pyvips.Image.gaussnoise(1600, 1200)] * 2)
    data = slow.cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=95)
    request = GridRequest(ConvertOptions(effort=9), Grid((1600,), (90,), (OutputFormat.AVIF,)))

    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        await runner.start()
        try:
            job = await runner.submit(submission(request, data))
            # the encode of a 1600x1200 noise AVIF at effort 9 takes far longer than this test waits
            await until(lambda: any(item.kind.value == "encode" for _, item in runner.held), what="the encode held")
            await until(lambda: engine.pool.busy == 1, what="the encode running")
            cancelled = await runner.cancel(job.id)
            assert cancelled.id == job.id
            started = time.monotonic()
            await until(lambda: not runner.held and engine.pool.busy == 0, timeout=10, what="the item abandoned")
            assert time.monotonic() - started < 5  # the item checks its job every second
            assert list(tmp_path.iterdir()) == []  # nothing written back after the removal
            with pytest.raises(JobNotFound):
                await runner.progress(job.id)
        finally:
            await runner.stop(5)

    with_engine(body, job_worker_share=1.0)


def test_a_lapsed_lease_is_taken_over_and_its_holder_loses_it(tmp_path: Path):
    store = JobStore(tmp_path)
    store.ensure()
    layout = layout_grid(Probed("jpeg", 800, 600, False), SMALL, max_groups=1)
    manifest = build_manifest(new_job_id(), time.time(), 3600, SMALL, layout, "photo", len(SOURCE))
    store.create(manifest, SOURCE)
    dead = try_claim(store.leases_dir(manifest.id), str(decode_item(0)), 0)  # a replica that died holding d0
    assert dead is not None

    async def body(engine: Engine) -> None:
        reclaimed = sample(metrics.JOB_ITEMS_RECLAIMED, suffix="_total")
        runner = JobRunner(store, engine, lambda: False)
        await runner.start()
        try:
            await until(lambda: (p := store.progress(manifest.id, time.time())) is not None and p.state == "done")
            assert sample(metrics.JOB_ITEMS_RECLAIMED, suffix="_total") == reclaimed + 1
            assert current_leases(store.leases_dir(manifest.id))["d0"].generation == 1
            assert not renew(dead)  # the old holder learns it lost the item
        finally:
            await runner.stop(5)

    with_engine(body, job_lease_seconds=1.0)
