"""Errors raised by the imaging layer, classified by whose fault they are.

The HTTP layer maps a kind to a status code; this module knows nothing about HTTP.
Instances must survive pickling across the process-pool boundary, hence ``__reduce__``.
"""

from __future__ import annotations

from enum import Enum


class ErrorKind(str, Enum):
    INVALID_OPTION = "invalid_option"  # the caller asked for something we do not accept
    UNSUPPORTED_MEDIA = "unsupported_media"  # not an image, or a type we refuse to open
    UNPROCESSABLE = "unprocessable"  # an image we accept in principle, but corrupt or too large
    TOO_LARGE = "too_large"  # over a configured size limit
    DEADLINE = "deadline"  # the request's deadline passed before the work could start
    MAX_BYTES_UNREACHABLE = "max_bytes_unreachable"  # even the lowest quality is over max_bytes
    MIN_SCORE_UNREACHABLE = "min_score_unreachable"  # even the highest quality scores under min_score


class ImageError(Exception):
    def __init__(self, kind: ErrorKind, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.kind, self.message, self.field))


class TargetUnreachable(ImageError):
    """No quality meets max_bytes/min_score; carries the encodes spent so the server can count them."""

    def __init__(self, kind: ErrorKind, message: str, field: str, attempts: int, output_format: str) -> None:
        super().__init__(kind, message, field)
        self.attempts = attempts
        self.output_format = output_format

    def __reduce__(self) -> tuple[type[TargetUnreachable], tuple[ErrorKind, str, str | None, int, str]]:
        return (type(self), (self.kind, self.message, self.field, self.attempts, self.output_format))


class OptionError(ImageError):
    """An option was unknown, of the wrong type or out of range: names field, allowed and received."""

    def __init__(self, field: str, allowed: str, received: object) -> None:
        self.allowed = allowed
        self.received = received
        message = f"Expected {allowed} for {field} but received {received!r}"
        super().__init__(ErrorKind.INVALID_OPTION, message, field)

    def __reduce__(self):  # type: ignore[override]
        return (type(self), (self.field, self.allowed, self.received))
