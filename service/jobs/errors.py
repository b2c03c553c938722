"""Refusals of the job API. Each names its code from the registry (service/errors.py), which gives
its HTTP status."""

from __future__ import annotations

from ..errors import (
    JOB_NOT_FINISHED,
    JOB_NOT_FOUND,
    OUTPUT_NOT_FOUND,
    SHUTTING_DOWN,
    STORAGE_FULL,
    TOO_MANY_JOBS,
    ServiceError,
)

__all__ = [
    "JobError",
    "JobNotFinished",
    "JobNotFound",
    "NotAcceptingJobs",
    "OutputNotFound",
    "StorageFull",
    "TooManyJobs",
]


class JobError(ServiceError):
    """Base of the job API's refusals."""


class JobNotFound(JobError):
    code = JOB_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("No job with this id: it never existed, has expired or was deleted")


class JobNotFinished(JobError):
    code = JOB_NOT_FINISHED

    def __init__(self, state: str) -> None:
        super().__init__(
            f"The job is {state}: its archive would not hold every output yet; wait for the job to finish "
            "or ask for ?partial=1"
        )


class OutputNotFound(JobError):
    code = OUTPUT_NOT_FOUND

    def __init__(self, name: str, finished: bool) -> None:
        super().__init__(
            f"The output {name!r} is not finished yet" if finished else "This job has no output of that name"
        )


class StorageFull(JobError):
    code = STORAGE_FULL

    def __init__(self, needed: int, limit: int, *, planned: bool = False) -> None:
        what = "the outputs and rasters this job may write" if planned else "this upload"
        super().__init__(
            f"Job storage is full: with {what} it would hold {needed} of {limit} bytes "
            "(MAX_STORAGE_BYTES); ask for fewer or smaller outputs, or retry once older jobs expire or are deleted"
        )


class TooManyJobs(JobError):
    code = TOO_MANY_JOBS

    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} jobs are already waiting or running (MAX_ACTIVE_JOBS); retry shortly")


class NotAcceptingJobs(JobError):
    code = SHUTTING_DOWN

    def __init__(self) -> None:
        super().__init__("This replica is shutting down; retry (another replica will answer)")
