"""The jobs runner against a real local store and a real pool: submission and its refusals (twenty
at once included), a job run to done, an output over its storage bound failed alone, the archive of
an unfinished job, a deleted job's item abandoned at once, a lapsed lease taken over."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest
import pyvips
from realpool import photo_jpeg, sample, until, with_engine

from service import metrics
from service.engine import Engine
from service.errors import UNPROCESSABLE
from service.grid.layout import Grid, GridRequest, layout_grid
from service.imaging.errors import ImageError
from service.imaging.formats import OutputFormat
from service.imaging.options import ConvertOptions
from service.imaging.tasks import Probed
from service.jobs.errors import JobNotFinished, JobNotFound, NotAcceptingJobs, OutputNotFound, StorageFull, TooManyJobs
from service.jobs.items import decode_item, encode_item
from service.jobs.leases import current_leases, renew, try_claim
from service.jobs.manifest import build_manifest
from service.jobs.model import JobSubmission
from service.jobs.progress import JobProgress
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


async def _plan_bytes(engine: Engine, runner: JobRunner, request: GridRequest = SMALL) -> int:
    probed = await engine.probe(SOURCE, engine.deadline_from_now())
    layout = layout_grid(probed, request, max(1, runner.share))
    return build_manifest(new_job_id(), 0.0, 60, request, layout, "photo", len(SOURCE)).reserved_bytes


def _fire_twenty(tmp_path: Path, expect: int, refusal: type[Exception], **settings: object) -> None:
    """Twenty submissions at once against a real runner: the ledger, sampled on every turn of the
    event loop while they run, never holds more jobs or bytes than the limits, and exactly as many
    jobs as fit are stored."""

    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        await runner.start()
        limits = engine.settings
        try:
            if limits.max_storage_bytes < 10**9:  # the storage-bound case: room for `expect` plans and a half
                plan = await _plan_bytes(engine, runner)
                assert plan * expect < limits.max_storage_bytes < plan * (expect + 1)
            peak = {"jobs": 0, "bytes": 0}

            async def sample() -> None:
                while True:
                    peak["jobs"] = max(peak["jobs"], runner.ledger.active)
                    peak["bytes"] = max(peak["bytes"], runner.ledger.committed)
                    await asyncio.sleep(0)

            sampler = asyncio.create_task(sample())
            results = await asyncio.gather(*(runner.submit(submission()) for _ in range(20)), return_exceptions=True)
            sampler.cancel()
            accepted = [r for r in results if isinstance(r, JobProgress)]
            assert len(accepted) == expect, results
            assert {type(r) for r in results if not isinstance(r, JobProgress)} == {refusal}
            assert peak["jobs"] <= limits.max_active_jobs and peak["bytes"] <= limits.max_storage_bytes, peak
            stored = [runner.store.manifest(job.id) for job in accepted]
            assert sum(m.reserved_bytes for m in stored if m is not None) <= limits.max_storage_bytes
            assert sorted(p.name for p in tmp_path.iterdir()) == sorted(job.id for job in accepted)
        finally:
            await runner.stop(5)

    with_engine(body, queue_per_worker=20, **settings)


def test_twenty_submissions_at_once_never_exceed_max_active_jobs(tmp_path: Path):
    _fire_twenty(tmp_path, 5, TooManyJobs, max_active_jobs=5)


def test_twenty_submissions_at_once_never_exceed_the_storage_limit(tmp_path: Path):
    async def plan_of(engine: Engine) -> int:
        return await _plan_bytes(engine, JobRunner(JobStore(tmp_path), engine, lambda: False))

    plan = with_engine(plan_of)  # three plans and a half
    _fire_twenty(tmp_path, 3, StorageFull, max_storage_bytes=plan * 3 + plan // 2)


def test_a_plan_over_the_storage_limit_is_refused_at_once_and_gives_its_reservation_back(tmp_path: Path):
    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        await runner.start()
        try:
            with pytest.raises(StorageFull, match="outputs and rasters"):
                await runner.submit(submission())
            assert (runner.ledger.active, runner.ledger.committed) == (0, 0)
            assert list(tmp_path.iterdir()) == []
        finally:
            await runner.stop(5)

    with_engine(body, max_storage_bytes=len(SOURCE) * 2)  # the upload fits, its plan does not


def test_max_job_output_pixels_is_a_budget_per_job(tmp_path: Path):
    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        await runner.start()
        try:
            with pytest.raises(ImageError, match="MAX_JOB_OUTPUT_PIXELS") as refused:
                await runner.submit(submission())  # 4 x 400x300 + 4 x 200x150 = 600,000 pixels
            assert refused.value.code is UNPROCESSABLE
            assert runner.ledger.active == 0 and list(tmp_path.iterdir()) == []
        finally:
            await runner.stop(5)

    with_engine(body, max_job_output_pixels=500_000)


def test_an_output_over_its_bound_fails_storage_full_and_the_rest_of_the_job_settles(tmp_path: Path):
    store = JobStore(tmp_path)
    store.ensure()
    layout = layout_grid(Probed("jpeg", 800, 600, False), SMALL, max_groups=1)
    planned = build_manifest(new_job_id(), time.time(), 3600, SMALL, layout, "photo", len(SOURCE))
    squeezed = msgspec.structs.replace(planned.outputs[0], max_bytes=100)  # as if the bound were wrong
    manifest = msgspec.structs.replace(planned, outputs=(squeezed, *planned.outputs[1:]))
    store.create(manifest, SOURCE)

    async def body(engine: Engine) -> None:
        runner = JobRunner(store, engine, lambda: False)
        await runner.start()
        try:
            await until(lambda: (p := store.progress(manifest.id, time.time())) is not None and p.state == "done")
            progress = await runner.progress(manifest.id)
            assert (progress.done, progress.failed) == (7, 1)
            assert progress.outputs[0].state == "failed" and "100 bytes reserved" in (progress.outputs[0].error or "")
            snap = store.snapshot(manifest.id, time.time())
            assert snap is not None and snap.errors[encode_item(0)].code == "storage_full"
            assert not (tmp_path / manifest.id / "outputs" / squeezed.name).exists()  # never stored
        finally:
            await runner.stop(5)

    with_engine(body)


def test_the_archive_of_an_unfinished_job_is_refused_unless_partial(tmp_path: Path):
    async def body(engine: Engine) -> None:
        runner = JobRunner(JobStore(tmp_path), engine, lambda: False)
        await runner.start()
        try:
            job = await runner.submit(submission())
            with pytest.raises(JobNotFinished, match="queued"):
                await runner.finished_outputs(job.id)
            partial = await runner.finished_outputs(job.id, partial=True)
            assert not partial.complete and partial.files == ()
            await until(lambda: runner.store.progress(job.id, time.time()).state == "done")  # type: ignore[union-attr]
            done = await runner.finished_outputs(job.id)
            assert done.complete and len(done.files) == 8
        finally:
            await runner.stop(5)

    with_engine(body)
