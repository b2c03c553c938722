"""Every failure becomes a JSON error with the right status; nothing a client sends gives a 500.

The imaging layer and the pool raise typed errors; this module alone decides their HTTP status
and counts them by reason in the rejections metric.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, InternalServerException

from .. import metrics
from ..imaging.errors import ErrorKind, ImageError, OptionError
from ..jobs.errors import JobError
from ..pool import DeadlineExceeded, Overloaded, PoolClosed, PoolError, WorkerCrashed
from .disconnect import ClientGone
from .inputs import TooManyParts

log = logging.getLogger("service.api")
MULTIPART_PART_LIMIT = 1000  # Litestar's default multipart_form_part_limit


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    code: str
    message: str
    field: str | None = None
    allowed: str | None = None
    received: str | None = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class Failure(msgspec.Struct, frozen=True):
    status: int
    code: str
    message: str
    reason: str | None  # rejection metric label, None when not a rejection
    field: str | None = None
    allowed: str | None = None
    received: str | None = None
    retry_after: int | None = None


_KIND_STATUS = {
    ErrorKind.INVALID_OPTION: (400, "bad_input"),
    ErrorKind.UNSUPPORTED_MEDIA: (415, "bad_input"),
    ErrorKind.UNPROCESSABLE: (422, "bad_input"),
    ErrorKind.TOO_LARGE: (413, "too_large"),
    ErrorKind.DEADLINE: (503, "deadline"),
    ErrorKind.MAX_BYTES_UNREACHABLE: (422, "bad_input"),
    ErrorKind.MIN_SCORE_UNREACHABLE: (422, "bad_input"),
}


def classify(exc: Exception) -> Failure:
    if isinstance(exc, JobError):
        return Failure(exc.status, exc.code, str(exc), exc.reason, retry_after=exc.retry_after)
    if isinstance(exc, OptionError):
        return Failure(400, exc.kind.value, exc.message, "bad_input", exc.field, exc.allowed, str(exc.received))
    if isinstance(exc, ImageError):
        status, reason = _KIND_STATUS[exc.kind]
        retry = 1 if exc.kind is ErrorKind.DEADLINE else None
        return Failure(status, exc.kind.value, exc.message, reason, exc.field, retry_after=retry)
    if isinstance(exc, Overloaded):
        return Failure(503, "overloaded", str(exc), "overload", retry_after=exc.retry_after)
    if isinstance(exc, DeadlineExceeded):
        if exc.started:
            return Failure(504, "deadline_exceeded", str(exc), "deadline")
        return Failure(503, "deadline_exceeded", str(exc), "deadline", retry_after=1)
    if isinstance(exc, WorkerCrashed):
        return Failure(503, "worker_crashed", str(exc), "worker_crash", retry_after=1)
    if isinstance(exc, ClientGone):  # nobody reads this answer; 499 as nginx logs it
        return Failure(499, "client_closed_request", str(exc) or "The client closed the connection", "client_gone")
    if isinstance(exc, PoolClosed):
        return Failure(503, "shutting_down", str(exc), "shutdown", retry_after=1)
    if isinstance(exc, PoolError):
        return Failure(503, "unavailable", str(exc), "overload", retry_after=1)
    if isinstance(exc, InternalServerException) and "disconnected" in str(exc.detail):
        # Litestar's word for an upload the client abandoned midway: theirs, not a server error.
        return Failure(499, "client_closed_request", "The client closed the connection", "client_gone")
    if isinstance(exc, TooManyParts) or (
        isinstance(exc, ClientException) and str(exc.detail) == "Request Entity Too Large"
    ):
        # Our multipart reader's part limit, or Litestar's own (multipart_form_part_limit).
        return Failure(
            413,
            "too_many_parts",
            f"The multipart form has more than {MULTIPART_PART_LIMIT} parts",
            "too_large",
            "image",
        )
    if isinstance(exc, HTTPException):
        status = exc.status_code
        client_fault = 400 <= status < 500 and status not in (404, 405)
        label: str | None = "too_large" if status == 413 else ("bad_input" if client_fault else None)
        message = str(exc.detail)
        field: str | None = None
        if status == 413:
            message = "The upload is larger than the configured limit (MAX_UPLOAD_BYTES)"
            field = "image"
        return Failure(status, _http_code(status), message, label, field)
    log.exception("unexpected error", exc_info=exc)
    return Failure(500, "internal_error", "Internal error; it has been logged", None)


def _http_code(status: int) -> str:
    return {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media",
        429: "too_many_requests",
    }.get(status, "http_error")


def _headers(failure: Failure, exc: Exception | None = None) -> dict[str, str]:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    if isinstance(exc, HTTPException) and exc.headers and failure.status == 405:
        headers["Allow"] = exc.headers.get("allow") or exc.headers.get("Allow", "")  # which methods the path takes
    return headers


def _count(failure: Failure) -> None:
    if failure.reason is not None:
        metrics.REJECTIONS.labels(failure.reason).inc()


def json_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorResponse]:
    failure = classify(exc)
    _count(failure)
    body = ErrorBody(failure.status, failure.code, failure.message, failure.field, failure.allowed, failure.received)
    return Response(ErrorResponse(body), status_code=failure.status, headers=_headers(failure, exc))


class SeedError(msgspec.Struct):
    success: bool
    error: str


def seed_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[SeedError]:
    """The original service's error shape, with a truthful status instead of its blanket 500."""
    failure = classify(exc)
    _count(failure)
    return Response(SeedError(False, failure.message), status_code=failure.status, headers=_headers(failure, exc))
