"""The job routes: submit a batch as an asynchronous job, follow it, fetch its outputs.

Thin handlers: they parse (the same grid parameters as /api/batch, api/gridparams.py), call the
jobs runner (submission, quotas, storage, scheduling: service/jobs) and shape its answers into the
status document (api/jobstatus.py). Any replica answers for any job: everything is read from storage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.datastructures import ETag
from litestar.params import Parameter
from litestar.response import File, Stream

from ..engine import Engine
from ..imaging.formats import OutputFormat
from ..jobs.model import JobSubmission
from ..jobs.progress import JobProgress
from ..jobs.runner import JobRunner
from .disposition import content_disposition
from .gridparams import JOB_LIST_PARAMS, parse_grid_request
from .inputs import read_upload
from .jobstatus import JobStatus, cancelled, job_url, status_document
from .zipstream import ZipStream

__all__ = [
    "LONG_POLL_STEP",
    "MAX_WAIT",
    "PARTIAL_HEADER",
    "SUBMIT",
    "cancel_job",
    "job_archive",
    "job_output",
    "job_status",
    "submit_job",
]

PARTIAL_HEADER = "X-Archive-Partial"
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
    settings, runner = engine.settings, _runner(request)
    runner.check_accepting()  # a replica shutting down refuses before reading the upload
    upload = await read_upload(request)
    grid = parse_grid_request(upload, settings, settings.max_job_outputs, JOB_LIST_PARAMS)
    progress = await runner.submit(JobSubmission(upload.data, upload.stem, grid))
    return Response(status_document(progress), status_code=202, headers={"Location": job_url(progress.id)})


def _fingerprint(progress: JobProgress) -> tuple[object, ...]:
    return (progress.state, progress.done, progress.failed, tuple(o.state for o in progress.outputs))


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
    progress = await runner.progress(job_id)
    if wait <= 0 or progress.state in ("done", "failed"):
        return status_document(progress)
    first = _fingerprint(progress)
    until = time.monotonic() + wait
    while time.monotonic() < until and not request.app.state.draining:
        await asyncio.sleep(min(LONG_POLL_STEP, max(0.0, until - time.monotonic())))
        progress = await runner.progress(job_id)
        if _fingerprint(progress) != first:
            break
    return status_document(progress)


@get(
    "/api/jobs/{job_id:str}/outputs/{name:str}",
    summary="One finished output of a job",
    tags=["jobs"],
    description="The output file as stored (never re-encoded), with Content-Type, Content-Length and ETag; "
    "304 to a matching If-None-Match.",
)
async def job_output(request: Request[Any, Any, Any], job_id: str, name: str) -> File | Response[None]:
    path, fmt = await _runner(request).output_file(job_id, name)
    stat = await asyncio.to_thread(path.stat)
    etag = f"{job_id[:8]}-{stat.st_size:x}-{int(stat.st_mtime_ns):x}"
    headers = {
        "Content-Disposition": content_disposition("inline", path.name),
        "Cache-Control": "private, max-age=86400, immutable",
    }
    if _matches(request.headers.get("if-none-match"), etag):
        # Litestar's File sends an ETag but never compares If-None-Match: a revalidation is answered here.
        return Response(None, status_code=304, headers={**headers, "ETag": f'"{etag}"'})
    return File(
        path,
        media_type=OutputFormat(fmt).mime,
        stat_result=stat,
        etag=ETag(value=etag),
        headers=headers,
    )


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison over a list of entity tags, or `*`."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or any(tag.removeprefix("W/") == f'"{etag}"' for tag in tags)


@get(
    "/api/jobs/{job_id:str}/archive",
    summary="Every finished output of a job as a ZIP",
    tags=["jobs"],
    description="Streamed from storage, outputs stored as they are. While the job is queued or running: 409 "
    "job_not_finished, or with `partial=1` the outputs done so far in a ZIP named `..._batch_partial.zip` "
    "with `X-Archive-Partial: true`. Can exceed API Gateway's 10 MB limit: use it through the load "
    "balancer's direct route for large grids.",
)
async def job_archive(
    request: Request[Any, Any, Any],
    job_id: str,
    partial: bool = Parameter(
        default=False, description="While the job runs, send the outputs done so far (named and marked partial)"
    ),
) -> Stream:
    finished = await _runner(request).finished_outputs(job_id, partial)
    stem = finished.manifest.original.name
    name = f"{stem}_batch.zip" if finished.complete else f"{stem}_batch_partial.zip"
    headers = {"Content-Disposition": content_disposition("attachment", name)}
    if not finished.complete:
        headers[PARTIAL_HEADER] = "true"
    return Stream(_archive(finished.files), media_type="application/zip", headers=headers)


async def _archive(files: tuple[tuple[str, Path], ...]) -> AsyncIterator[bytes]:
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
    return cancelled(await _runner(request).cancel(job_id))
