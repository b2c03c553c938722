"""The job status document: a job's progress (service/jobs/progress.py) shaped for clients, with
the URLs of its outputs and archive. The only place that knows the document's shape."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import msgspec

from ..jobs.model import JobOriginal
from ..jobs.progress import JobProgress

__all__ = ["JobStatus", "OutputStatus", "cancelled", "job_url", "status_document"]


class OutputStatus(msgspec.Struct):
    name: str
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    state: str  # pending | running | done | failed
    bytes: int | None
    url: str
    score: float | None = None
    error: str | None = None


class JobStatus(msgspec.Struct):
    id: str
    status: str  # queued | running | done | failed | cancelled
    total: int
    done: int
    failed: int
    created: str
    updated: str
    expires: str
    original: JobOriginal
    outputs: list[OutputStatus]
    archive_url: str


def job_url(job_id: str) -> str:
    return f"/api/jobs/{job_id}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_document(progress: JobProgress) -> JobStatus:
    m = progress.manifest
    base = job_url(m.id)
    outputs = [
        OutputStatus(
            o.item.name,
            o.item.requested_width,
            o.item.width,
            o.item.height,
            o.item.quality,
            o.item.format,
            o.state,
            o.bytes,
            f"{base}/outputs/{quote(o.item.name)}",
            score=o.score,
            error=o.error,
        )
        for o in progress.outputs
    ]
    return JobStatus(
        m.id,
        progress.state,
        progress.total,
        progress.done,
        progress.failed,
        _iso(m.created),
        _iso(progress.updated),
        _iso(m.expires),
        m.original,
        outputs,
        f"{base}/archive",
    )


def cancelled(progress: JobProgress) -> JobStatus:
    """The last status of a job just removed."""
    return msgspec.structs.replace(status_document(progress), status="cancelled")
