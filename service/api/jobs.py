"""The job routes: submit a batch as an asynchronous job, follow it, fetch its outputs.

Thin handlers: parsing is the batch's own (same upload, same options, same errors), storage and
scheduling are in service/jobs. Any replica answers for any job: everything is read from storage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import ETag
from litestar.params import Parameter
from litestar.response import File, Stream

from ..engine import Engine
from ..grid.layout import layout_batch
from ..imaging.formats import OutputFormat
from ..jobs.errors import JobNotFound, NotAcceptingJobs, OutputNotFound, StorageFull, TooManyJobs
from ..jobs.manifest import build_manifest
from ..jobs.model import JobStatus
from ..jobs.runner import JobRunner
from ..jobs.store import new_job_id
from .batch import parse_batch_request
from .disposition import content_disposition
from .inputs import read_upload
from .zipstream import ZipStream

_JOB_LIST_PARAMS = ("widths", "qualities", "formats")
LONG_POLL_STEP = 0.5
MAX_WAIT = 20

SUBMIT = (
    "Submits the same upload and options as `/api/batch` (widths x qualities x formats, every per-format "
    "option, up to MAX_JOB_OUTPUTS outputs) as an asynchronous job on shared storage. Answers 202 with "
    "`Location: /api/jobs/{id}` and the status document; any replica can answer for the job afterwards."
)


def _runner(request: Request[Any, Any, Any]) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


@post("/api/jobs", summary="Submit a batch as an asynchronous job", description=SUBMIT, tags=["jobs"], status_code=202)
async def submit_job(request: Request[Any, Any, Any]) -> Response[JobStatus]:
    engine: Engine = request.app.state.engine
    runner = _runner(request)
    settings = engine.settings
    if not runner.accepting:
        raise NotAcceptingJobs()
    upload = await read_upload(request)
    batch = parse_batch_request(upload, settings, settings.max_job_outputs, _JOB_LIST_PARAMS)
    if runner.bytes_stored + len(upload.data) > settings.max_storage_bytes:
        raise StorageFull(runner.bytes_stored, settings.max_storage_bytes)
    if runner.active_jobs >= settings.max_active_jobs:
        raise TooManyJobs(settings.max_active_jobs)
    async with engine.admission():  # a flood of submissions is refused like any other request
        # Refused now, not as a failed job later: the header, and a small decode of the whole file.
        probed = await engine.probe(upload.data, engine.deadline_from_now(), validate=True)
        # Decode groups split only as far as this replica's job share can run them side by side.
        layout = layout_batch(probed, batch, max(1, runner.share))
        now = time.time()
        manifest = build_manifest(
            new_job_id(), now, settings.job_ttl_seconds, batch, layout, upload.stem, len(upload.data)
        )
        await asyncio.to_thread(runner.store.create, manifest, upload.data)
    runner.active_jobs += 1
    runner.bytes_stored += len(upload.data)
    status = await asyncio.to_thread(runner.store.status, manifest.id, now)
    assert status is not None
    return Response(status, status_code=202, headers={"Location": f"/api/jobs/{manifest.id}"})


def _fingerprint(status: JobStatus) -> tuple[object, ...]:
    return (status.status, status.done, status.failed, tuple(o.state for o in status.outputs))


@get(
    "/api/jobs/{job_id:str}",
    summary="A job's status",
    tags=["jobs"],
    description="Status, counts and every output's state. `wait=N` (N <= 20) holds the answer until "
    "something changes or N seconds pass, so clients need no tight polling loop.",
)
async def job_status(
    request: Request[Any, Any, Any],
    job_id: str,
    wait: float = Parameter(default=0, ge=0, le=MAX_WAIT, description="Long poll: seconds to wait for a change"),
) -> JobStatus:
    runner = _runner(request)
    status = await asyncio.to_thread(runner.store.status, job_id, time.time())
    if status is None:
        raise JobNotFound()
    if wait <= 0 or status.status in ("done", "failed"):
        return status
    first = _fingerprint(status)
    until = time.monotonic() + wait
    while time.monotonic() < until and not request.app.state.draining:
        await asyncio.sleep(min(LONG_POLL_STEP, max(0.0, until - time.monotonic())))
        latest = await asyncio.to_thread(runner.store.status, job_id, time.time())
        if latest is None:
            raise JobNotFound()
        status = latest
        if _fingerprint(status) != first:
            break
    return status


@get(
    "/api/jobs/{job_id:str}/outputs/{name:str}",
    summary="One finished output of a job",
    tags=["jobs"],
    description="The output file as stored (never re-encoded), with Content-Type, Content-Length and ETag.",
)
async def job_output(request: Request[Any, Any, Any], job_id: str, name: str) -> File:
    runner = _runner(request)
    now = time.time()
    found = await asyncio.to_thread(runner.store.output_file, job_id, name, now)
    if found is None:
        manifest = await asyncio.to_thread(runner.store.live_manifest, job_id, now)
        if manifest is None:
            raise JobNotFound()
        raise OutputNotFound(name, manifest.output(name) is not None)
    path, fmt = found
    stat = await asyncio.to_thread(path.stat)
    return File(
        path,
        media_type=OutputFormat(fmt).mime,
        stat_result=stat,
        etag=ETag(value=f"{job_id[:8]}-{stat.st_size:x}-{int(stat.st_mtime_ns):x}"),
        headers={
            "Content-Disposition": content_disposition("inline", path.name),
            "Cache-Control": "private, max-age=86400, immutable",
        },
    )


@get(
    "/api/jobs/{job_id:str}/archive",
    summary="Every finished output of a job as a ZIP",
    tags=["jobs"],
    description="Streamed from storage, outputs stored as they are. Can exceed API Gateway's 10 MB limit: "
    "use it through the load balancer's direct route for large grids.",
)
async def job_archive(request: Request[Any, Any, Any], job_id: str) -> Stream:
    runner = _runner(request)
    now = time.time()
    manifest = await asyncio.to_thread(runner.store.live_manifest, job_id, now)
    if manifest is None:
        raise JobNotFound()
    files = await asyncio.to_thread(runner.store.finished_outputs, job_id, now)
    name = f"{manifest.original.name}_batch.zip"
    return Stream(
        _archive(files),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition("attachment", name)},
    )


async def _archive(files: list[tuple[str, Path]]) -> AsyncIterator[bytes]:
    archive = ZipStream()
    for name, path in files:
        try:
            data = await asyncio.to_thread(path.read_bytes)  # one output at a time in memory
        except FileNotFoundError:
            raise RuntimeError("the job was deleted while its archive was being sent") from None
        yield archive.add(name, data)
    yield archive.finish()


@delete(
    "/api/jobs/{job_id:str}",
    summary="Cancel and remove a job",
    tags=["jobs"],
    status_code=200,
    description="Cancels what has not started and removes the job and its files. Answers the last status, "
    "marked cancelled.",
)
async def cancel_job(request: Request[Any, Any, Any], job_id: str) -> JobStatus:
    runner = _runner(request)
    status = await asyncio.to_thread(runner.store.status, job_id, time.time())
    if status is None or not await asyncio.to_thread(runner.store.remove, job_id):
        raise JobNotFound()
    return msgspec.structs.replace(status, status="cancelled")
