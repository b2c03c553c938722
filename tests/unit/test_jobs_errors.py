"""The job API's refusals name their codes: status, metric reason and Retry-After from the registry."""

from __future__ import annotations

import pytest

from service import errors
from service.jobs.errors import (
    JobError,
    JobNotFinished,
    JobNotFound,
    NotAcceptingJobs,
    OutputNotFound,
    StorageFull,
    TooManyJobs,
)


@pytest.mark.parametrize(
    ("error", "code", "status", "reason", "retry"),
    [
        (JobNotFound(), errors.JOB_NOT_FOUND, 404, None, None),
        (JobNotFinished("running"), errors.JOB_NOT_FINISHED, 409, None, None),
        (OutputNotFound("a.webp", finished=False), errors.OUTPUT_NOT_FOUND, 404, None, None),
        (StorageFull(10, 5), errors.STORAGE_FULL, 507, "overload", None),
        (TooManyJobs(8), errors.TOO_MANY_JOBS, 503, "overload", 10),
        (NotAcceptingJobs(), errors.SHUTTING_DOWN, 503, "shutdown", 1),
    ],
)
def test_each_refusal_names_its_code(error, code, status, reason, retry):
    assert isinstance(error, JobError)
    assert (error.code, error.status, error.code.reason, error.retry_after) == (code, status, reason, retry)


def test_messages_say_what_to_do():
    assert "not finished yet" in str(OutputNotFound("a.webp", finished=True))
    assert "no output of that name" in str(OutputNotFound("a.webp", finished=False))
    assert "10 of 5 bytes" in str(StorageFull(10, 5)) and "MAX_ACTIVE_JOBS" in str(TooManyJobs(8))
    assert "outputs and rasters" in str(StorageFull(10, 5, planned=True))
    assert "running" in str(JobNotFinished("running")) and "partial=1" in str(JobNotFinished("queued"))
