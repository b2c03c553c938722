"""Refusals of the job API, each with its HTTP status decided here (mapped in api/errors.py)."""

from __future__ import annotations


class JobError(Exception):
    status = 400
    code = "job_error"
    reason: str | None = "bad_input"  # rejection metric label
    retry_after: int | None = None


class JobNotFound(JobError):
    status, code, reason = 404, "job_not_found", None

    def __init__(self) -> None:
        super().__init__("No job with this id: it never existed, has expired or was deleted")


class OutputNotFound(JobError):
    status, code, reason = 404, "output_not_found", None

    def __init__(self, name: str, finished: bool) -> None:
        super().__init__(
            f"The output {name!r} is not finished yet" if finished else "This job has no output of that name"
        )


class StorageFull(JobError):
    status, code, reason = 507, "storage_full", "overload"

    def __init__(self, used: int, limit: int) -> None:
        super().__init__(
            f"Job storage is full ({used} of {limit} bytes, MAX_STORAGE_BYTES); "
            "retry once older jobs expire or are deleted"
        )


class TooManyJobs(JobError):
    status, code, reason, retry_after = 503, "too_many_jobs", "overload", 10

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} jobs are already waiting or running (MAX_ACTIVE_JOBS); retry shortly")


class NotAcceptingJobs(JobError):
    status, code, reason, retry_after = 503, "shutting_down", "shutdown", 1

    def __init__(self) -> None:
        super().__init__("This replica is shutting down; retry (another replica will answer)")
