"""Every failure becomes a JSON error with the right status; nothing a client sends gives a 500.

The service's own errors name their code (service/errors.py), which gives the status, the
Retry-After and the rejections metric's reason; the framework's HTTP exceptions map to the code
registered for their status. Anything else is a fault of ours: a logged 500.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, InternalServerException

from .. import metrics
from ..errors import (
    BAD_REQUEST,
    CLIENT_CLOSED_REQUEST,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    TOO_MANY_PARTS,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA,
    Code,
    ServiceError,
)
from ..imaging.errors import Allowed, OptionError
from .inputs import IMAGE_FIELD, MAX_PARTS

__all__ = [
    "HTTP_CODES",
    "ErrorBody",
    "ErrorResponse",
    "Failure",
    "SeedError",
    "classify",
    "json_error_handler",
    "seed_error_handler",
]

log = logging.getLogger("service.api")

# The code of a framework HTTP exception, by its status (Litestar raises these itself: routing,
# parameter validation, its own body limits). A status not listed is answered as the closest
# registered code: any other 4xx as bad_request, any 5xx as internal_error.
HTTP_CODES: dict[int, Code] = {
    code.status: code
    for code in (BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA)
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """An error: its code (service/errors.py lists them), what went wrong, and for an option what is
    allowed and what was received."""

    status: Annotated[int, msgspec.Meta(description="The HTTP status")]
    code: Annotated[str, msgspec.Meta(description="Machine-readable, one of the registered codes")]
    message: Annotated[str, msgspec.Meta(description="What went wrong and how to fix it")]
    field: Annotated[str | None, msgspec.Meta(description="The option or upload field at fault")] = None
    allowed: Annotated[Allowed | None, msgspec.Meta(description="What the option accepts")] = None
    received: Annotated[str | None, msgspec.Meta(description="The value received, cut to 100 characters")] = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class Failure(msgspec.Struct, frozen=True):
    """An error as answered: its code, the message and, for an option, what is allowed."""

    code: Code
    message: str
    field: str | None = None
    allowed: Allowed | None = None
    received: str | None = None
    retry_after: int | None = None

    @property
    def status(self) -> int:
        return self.code.status

    @property
    def reason(self) -> str | None:
        return self.code.reason


def classify(exc: Exception) -> Failure:
    if isinstance(exc, OptionError):
        return Failure(exc.code, exc.message, exc.field, exc.allowed, exc.received)
    if isinstance(exc, ServiceError):
        return Failure(exc.code, exc.message, exc.field, retry_after=exc.retry_after)
    if isinstance(exc, InternalServerException) and "disconnected" in str(exc.detail):
        # Litestar's word for an upload the client abandoned midway: theirs, not a server error.
        return Failure(CLIENT_CLOSED_REQUEST, "The client closed the connection")
    if isinstance(exc, ClientException) and str(exc.detail) == "Request Entity Too Large":
        # Litestar's own multipart part limit (multipart_form_part_limit, the same number as ours).
        return Failure(TOO_MANY_PARTS, f"The multipart form has more than {MAX_PARTS} parts", IMAGE_FIELD)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = HTTP_CODES.get(exc.status_code, BAD_REQUEST)
        if code is PAYLOAD_TOO_LARGE:
            return Failure(code, "The upload is larger than the configured limit (MAX_UPLOAD_BYTES)", IMAGE_FIELD)
        return Failure(code, str(exc.detail))
    log.exception("unexpected error", exc_info=exc)
    return Failure(INTERNAL_ERROR, "Internal error; it has been logged")


def _headers(failure: Failure, exc: Exception | None = None) -> dict[str, str]:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
    if isinstance(exc, HTTPException) and exc.headers and failure.code is METHOD_NOT_ALLOWED:
        headers["Allow"] = exc.headers.get("allow") or exc.headers.get("Allow", "")  # which methods the path takes
    return headers


def _count(failure: Failure) -> None:
    if failure.reason is not None:
        metrics.REJECTIONS.labels(failure.reason).inc()


def json_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorResponse]:
    failure = classify(exc)
    _count(failure)
    body = ErrorBody(
        failure.status, failure.code.name, failure.message, failure.field, failure.allowed, failure.received
    )
    return Response(ErrorResponse(body), status_code=failure.status, headers=_headers(failure, exc))


class SeedError(msgspec.Struct):
    """The original service's error shape."""

    success: bool
    error: str


def seed_error_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[SeedError]:
    """The original service's error shape, with a truthful status instead of its blanket 500."""
    failure = classify(exc)
    _count(failure)
    return Response(SeedError(False, failure.message), status_code=failure.status, headers=_headers(failure, exc))
