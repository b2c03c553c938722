"""Errors raised by the imaging layer, classified by whose fault they are.

The HTTP layer maps a kind to a status code; this module knows nothing about HTTP.
Instances must survive pickling across the process-pool boundary, hence ``__reduce__``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

MAX_ECHO = 100  # characters of a client's value repeated in an error: a 10 MB field is not echoed back


class ErrorKind(StrEnum):
    INVALID_OPTION = "invalid_option"  # the caller asked for something we do not accept
    UNSUPPORTED_MEDIA = "unsupported_media"  # not an image, or a type we refuse to open
    UNPROCESSABLE = "unprocessable"  # an image we accept in principle, but corrupt or too large
    TOO_LARGE = "too_large"  # over a configured size limit
    DEADLINE = "deadline"  # the request's deadline passed before the work could start
    MAX_BYTES_UNREACHABLE = "max_bytes_unreachable"  # even the lowest quality is over max_bytes
    MIN_SCORE_UNREACHABLE = "min_score_unreachable"  # even the highest quality scores under min_score


def echo(value: object, limit: int = MAX_ECHO) -> str:
    """A client's value as an error may repeat it: its repr, cut to `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def vips_reason(exc: Exception) -> str:
    """The first line of a libvips error (pyvips.Error carries it in `detail`), for a client's message."""
    detail = (getattr(exc, "detail", "") or str(exc)).strip()
    return detail.splitlines()[0] if detail else "libvips error"


class ImageError(Exception):
    def __init__(self, kind: ErrorKind, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[Callable[[type[ImageError], dict[str, Any]], ImageError], tuple[Any, ...]]:
        # Rebuilt from its attributes, not by calling __init__ again (which would cut a cut value).
        return (_restore, (type(self), dict(self.__dict__)))


def _restore(cls: type[ImageError], state: dict[str, Any]) -> ImageError:
    error = cls.__new__(cls)
    Exception.__init__(error, state["message"])
    error.__dict__.update(state)
    return error


class TargetUnreachable(ImageError):
    """No quality meets max_bytes/min_score; carries the encodes spent so the server can count them."""

    def __init__(self, kind: ErrorKind, message: str, field: str, attempts: int, output_format: str) -> None:
        super().__init__(kind, message, field)
        self.attempts = attempts
        self.output_format = output_format

    def __reduce__(self) -> tuple[type[TargetUnreachable], tuple[ErrorKind, str, str | None, int, str]]:
        return (type(self), (self.kind, self.message, self.field, self.attempts, self.output_format))


class OptionError(ImageError):
    """An option was unknown, of the wrong type or out of range: names field, allowed and received.
    Field names and values come from the client, so both are cut to a bounded length."""

    def __init__(self, field: str, allowed: str, received: object) -> None:
        self.allowed = allowed
        self.received = echo(received)
        message = f"Expected {allowed} for {echo(field)} but received {self.received!r}"
        super().__init__(ErrorKind.INVALID_OPTION, message, echo(field))
