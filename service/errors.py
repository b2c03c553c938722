"""Every error code the service answers, declared once: its HTTP status, its rejections-metric
reason, its Retry-After and a line saying what it means.

An error raised anywhere in the service derives from `ServiceError` and names its code where it is
defined (imaging/, pool/, jobs/, imgurl/ and sources/errors.py). Everything else is read from here: the
HTTP status and headers (api/errors.py), the metric's reasons (metrics.py), each route's error
responses in the OpenAPI document, the README's table of codes and the codes the browser UI words
(a test compares service/web/common.js with `CODES`).

No web imports: workers raise these errors too, and they cross the process boundary by pickle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import msgspec

__all__ = [
    "BAD_REQUEST",
    "CLIENT_CLOSED_REQUEST",
    "CODES",
    "CROSS_ORIGIN_REFUSED",
    "DEADLINE",
    "DEADLINE_EXCEEDED",
    "HEADERS_TOO_LARGE",
    "INTERNAL_ERROR",
    "INVALID_OPTION",
    "INVALID_URL",
    "INVALID_URL_OPTION",
    "JOB_NOT_FINISHED",
    "JOB_NOT_FOUND",
    "MAX_BYTES_UNREACHABLE",
    "METHOD_NOT_ALLOWED",
    "MIN_SCORE_UNREACHABLE",
    "NOT_FOUND",
    "OUTPUT_NOT_FOUND",
    "OVERLOADED",
    "PAYLOAD_TOO_LARGE",
    "REASONS",
    "SHUTTING_DOWN",
    "SIGNATURE_INVALID",
    "SOURCE_NOT_FOUND",
    "SOURCE_TOO_LARGE",
    "SOURCE_UNSUPPORTED",
    "STORAGE_FULL",
    "TOO_MANY_JOBS",
    "TOO_MANY_PARTS",
    "UNAUTHORIZED",
    "UNPROCESSABLE",
    "UNSUPPORTED_MEDIA",
    "URL_EXPIRED",
    "WORKER_CRASHED",
    "Code",
    "Reason",
    "ServiceError",
    "client_codes",
    "code_named",
]

# Labels of imageconv_rejections_total: why a request was refused, in words an operator alerts on.
Reason = Literal[
    "overload", "deadline", "bad_input", "too_large", "worker_crash", "shutdown", "client_gone", "unauthorized",
    "cross_origin",
]  # fmt: skip
REASONS: tuple[Reason, ...] = get_args(Reason)


class Code(msgspec.Struct, frozen=True):
    """One error code: the `code` of the JSON error and everything the service derives from it."""

    name: str
    status: int
    meaning: str  # one line, for the README and the OpenAPI document
    reason: Reason | None = None  # the rejections metric's label; None: not a refusal worth counting
    retry_after: int | None = None  # Retry-After seconds, when retrying later can succeed
    read: bool = True  # False when nobody reads the answer (the client has gone)

    def __reduce__(self) -> tuple[Callable[[str], Code], tuple[str]]:
        return (code_named, (self.name,))  # one object per code, also after a trip through pickle


_CODES: dict[str, Code] = {}
CODES: Mapping[str, Code] = _CODES  # every code, in declaration order


def _declare(
    name: str,
    status: int,
    meaning: str,
    reason: Reason | None = None,
    retry_after: int | None = None,
    *,
    read: bool = True,
) -> Code:
    if name in _CODES:
        raise ValueError(f"error code {name!r} declared twice")
    code = Code(name, status, meaning, reason, retry_after, read)
    _CODES[name] = code
    return code


def code_named(name: str) -> Code:
    return _CODES[name]


def client_codes() -> tuple[Code, ...]:
    """The codes a client reads (the UI words each of them)."""
    return tuple(code for code in _CODES.values() if code.read)


# --- the request: options, the upload, the image ------------------------------------------------
INVALID_OPTION = _declare(
    "invalid_option",
    400,
    "An option is unknown, of the wrong type, out of range or does not apply to the format",
    "bad_input",
)
BAD_REQUEST = _declare(
    "bad_request", 400, "The request is malformed (a broken multipart form, a bad parameter)", "bad_input"
)
PAYLOAD_TOO_LARGE = _declare("payload_too_large", 413, "The body is larger than MAX_UPLOAD_BYTES", "too_large")
TOO_MANY_PARTS = _declare("too_many_parts", 413, "The multipart form has more than 1000 parts", "too_large")
HEADERS_TOO_LARGE = _declare(
    "headers_too_large", 431, "The request line and headers are larger than MAX_HEADER_BYTES"
)  # counted by the connection guard (imageconv_connections_closed_total), not as a rejection
UNSUPPORTED_MEDIA = _declare(
    "unsupported_media", 415, "Not an image, or an image type the service does not open (SVG, PDF, ...)", "bad_input"
)
UNPROCESSABLE = _declare(
    "unprocessable",
    422,
    "A corrupt or truncated image, more pixels than MAX_INPUT_PIXELS, a side over MAX_INPUT_DIMENSION or "
    "sides' ratio over MAX_INPUT_ASPECT_RATIO, outputs over MAX_OUTPUT_PIXELS, MAX_BATCH_OUTPUT_PIXELS or "
    "MAX_JOB_OUTPUT_PIXELS, or options the encoder refused",
    "bad_input",
)
MAX_BYTES_UNREACHABLE = _declare(
    "max_bytes_unreachable", 422, "Even the lowest quality is larger than max_bytes", "bad_input"
)
MIN_SCORE_UNREACHABLE = _declare(
    "min_score_unreachable", 422, "Even the highest quality scores under min_score", "bad_input"
)

# --- the GET URL API: the signed URL and its source ---------------------------------------------
INVALID_URL = _declare(
    "invalid_url", 422, "The /img path is not /{signature}/{options}/{source}, or a part cannot be decoded", "bad_input"
)
INVALID_URL_OPTION = _declare(
    "invalid_url_option",
    422,
    "A processing option in the /img URL is unknown, not supported yet, or has arguments it does not take",
    "bad_input",
)
SIGNATURE_INVALID = _declare(
    "signature_invalid", 403, "The /img URL's signature is missing or does not match URL_SIGNING_KEY/SALT", "bad_input"
)
URL_EXPIRED = _declare("url_expired", 410, "The /img URL's expires option has passed", "bad_input")
SOURCE_NOT_FOUND = _declare(
    "source_not_found", 404, "No such source: it never existed, has expired, or is outside SOURCE_DIR"
)
SOURCE_UNSUPPORTED = _declare(
    "source_unsupported", 422, "The source URL's scheme is not one this service loads", "bad_input"
)
SOURCE_TOO_LARGE = _declare("source_too_large", 422, "The source is larger than MAX_UPLOAD_BYTES", "too_large")

# --- access and addressing ----------------------------------------------------------------------
UNAUTHORIZED = _declare("unauthorized", 401, "API_KEYS is set and the request has no valid API key", "unauthorized")
CROSS_ORIGIN_REFUSED = _declare(
    "cross_origin_refused", 403, "A browser POST from a site not listed in CORS_ORIGINS", "cross_origin"
)
NOT_FOUND = _declare("not_found", 404, "No such route or file")
METHOD_NOT_ALLOWED = _declare(
    "method_not_allowed", 405, "The route does not take this method (Allow lists those it does)"
)
JOB_NOT_FOUND = _declare("job_not_found", 404, "No job with this id: it never existed, has expired or was deleted")
JOB_NOT_FINISHED = _declare(
    "job_not_finished",
    409,
    "The job is still queued or running: its archive is not complete (?partial=1 sends what is done)",
)
OUTPUT_NOT_FOUND = _declare("output_not_found", 404, "The job has no output of that name, or it is not finished yet")

# --- capacity and time --------------------------------------------------------------------------
OVERLOADED = _declare(
    "overloaded", 503, "At capacity: the queue is full (Retry-After grows with the queue)", "overload", 1
)
DEADLINE = _declare(
    "deadline", 503, "The request deadline passed before a worker could start the conversion", "deadline", 1
)
DEADLINE_EXCEEDED = _declare(
    "deadline_exceeded", 504, "The conversion did not finish before REQUEST_DEADLINE_SECONDS", "deadline"
)
WORKER_CRASHED = _declare(
    "worker_crashed", 503, "The worker converting the image died (out of memory or crashed)", "worker_crash", 1
)
SHUTTING_DOWN = _declare("shutting_down", 503, "This replica is shutting down (another one will answer)", "shutdown", 1)
TOO_MANY_JOBS = _declare("too_many_jobs", 503, "MAX_ACTIVE_JOBS jobs are already waiting or running", "overload", 10)
STORAGE_FULL = _declare(
    "storage_full", 507, "Storage for jobs and stored sources is full (MAX_STORAGE_BYTES)", "overload"
)
CLIENT_CLOSED_REQUEST = _declare(
    "client_closed_request", 499, "The client closed the connection before the answer (logged only)", "client_gone",
    read=False,
)  # fmt: skip
INTERNAL_ERROR = _declare("internal_error", 500, "A fault of the service; it has been logged")


class ServiceError(Exception):
    """An error the service answers on purpose. A subclass names its `code` (ImageError takes one per
    instance); status, metric reason and Retry-After come from the code. `field` names the option or
    upload field at fault."""

    code: Code = INTERNAL_ERROR

    def __init__(self, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after = self.code.retry_after if retry_after is None else retry_after

    @property
    def status(self) -> int:
        return self.code.status

    def __reduce__(self) -> tuple[Callable[[type[ServiceError], dict[str, Any]], ServiceError], tuple[Any, ...]]:
        # Rebuilt from its attributes, not by calling __init__ again: subclasses' constructors take
        # other arguments, and rebuilding a message would cut an already cut value again.
        return (_restore, (type(self), dict(self.__dict__)))


def _restore(cls: type[ServiceError], state: dict[str, Any]) -> ServiceError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error
