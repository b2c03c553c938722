"""The job status document: a job's progress shaped for clients, with its URLs."""

from __future__ import annotations

import msgspec

from service.api.jobstatus import JobStatus, cancelled, job_url, status_document
from service.imaging.options import ConvertOptions
from service.jobs.items import encode_item
from service.jobs.leases import LeaseView
from service.jobs.model import DecodeItem, ItemError, JobManifest, JobOriginal, OutputItem
from service.jobs.progress import JobSnapshot, job_progress

JOB = "A" * 32


def progress(outputs: dict, errors: dict, claims: dict | None = None):
    items = (
        OutputItem("사진_100x67.webp", 100, 100, 67, None, "webp", "g0-100.v", 0),
        OutputItem("사진_50x33_q40.jpg", 50, 50, 33, 40, "jpeg", "g0-50.v", 0),
    )
    manifest = JobManifest(
        JOB,
        0.0,
        86400.0,
        ConvertOptions(),
        JobOriginal(300, 200, "jpeg", 5, "사진"),
        (DecodeItem(100, ((100, "g0-100.v"), (50, "g0-50.v"))),),
        items,
    )
    return job_progress(JobSnapshot(manifest, outputs, errors, set(), claims or {}, False))


def test_the_document_carries_quoted_urls_and_utc_times():
    doc = status_document(progress({"사진_100x67.webp": (10, 60.0)}, {}, {encode_item(1): LeaseView(0, "t 1")}))
    assert job_url(JOB) == f"/api/jobs/{JOB}"
    assert doc.archive_url == f"/api/jobs/{JOB}/archive"
    assert doc.outputs[0].url == f"/api/jobs/{JOB}/outputs/%EC%82%AC%EC%A7%84_100x67.webp"
    assert (doc.status, doc.total, doc.done, doc.failed) == ("running", 2, 1, 0)
    assert (doc.created, doc.updated, doc.expires) == (
        "1970-01-01T00:00:00Z",
        "1970-01-01T00:01:00Z",
        "1970-01-02T00:00:00Z",
    )
    assert [(o.state, o.bytes) for o in doc.outputs] == [("done", 10), ("running", None)]
    assert doc.original.name == "사진"


def test_the_document_keeps_its_json_shape():
    doc = status_document(progress({}, {encode_item(1): ItemError("unprocessable", "no")}))
    body = msgspec.json.decode(msgspec.json.encode(doc))
    assert list(body) == [
        "id", "status", "total", "done", "failed", "created", "updated", "expires", "original", "outputs", "archive_url"
    ]  # fmt: skip
    assert body["outputs"][1] == {
        "name": "사진_50x33_q40.jpg",
        "requested_width": 50,
        "width": 50,
        "height": 33,
        "quality": 40,
        "format": "jpeg",
        "state": "failed",
        "bytes": None,
        "url": f"/api/jobs/{JOB}/outputs/%EC%82%AC%EC%A7%84_50x33_q40.jpg",
        "score": None,
        "error": "no",
    }
    assert body["updated"] == body["created"]  # queued: nothing newer than the submission


def test_a_cancelled_job_answers_its_last_status_marked_cancelled():
    doc = cancelled(progress({}, {}))
    assert isinstance(doc, JobStatus) and doc.status == "cancelled" and doc.total == 2
