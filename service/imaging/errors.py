"""Errors raised by the imaging layer. Each names its code from the registry (service/errors.py),
which gives its HTTP status; this module knows nothing about HTTP.

Instances cross the process-pool boundary by pickle (ServiceError.__reduce__ keeps every attribute).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from ..errors import INVALID_OPTION, Code, ServiceError

__all__ = ["MAX_ECHO", "Allowed", "ImageError", "OptionError", "TargetUnreachable", "echo", "vips_reason"]

MAX_ECHO = 100  # characters of a client's value repeated in an error: a 10 MB field is not echoed back

AllowedType = Literal["integer", "number", "boolean", "choice", "option", "requires", "limit"]
Choice = bool | int | float | str


class Allowed(msgspec.Struct, frozen=True, omit_defaults=True):
    """What an option accepts, as data a client words in its own language (the English is in the
    error's message).

    integer/number: between `minimum` and `maximum`, or one of `choices`; boolean; choice: one of
    `choices`; option: a parameter named one of `choices`; requires: only when the option named
    `option` is one of `choices`; limit: at most `maximum` `unit`.
    """

    type: AllowedType
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[Choice, ...] = ()
    option: str | None = None
    unit: str | None = None


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


class ImageError(ServiceError):
    """An image or a request the imaging layer refuses; the code says whose fault and how."""

    def __init__(self, code: Code, message: str, field: str | None = None) -> None:
        self.code = code
        super().__init__(message, field=field)


class TargetUnreachable(ImageError):
    """No quality meets max_bytes/min_score; carries the encodes spent so the server can count them."""

    def __init__(self, code: Code, message: str, field: str, attempts: int, output_format: str) -> None:
        super().__init__(code, message, field)
        self.attempts = attempts
        self.output_format = output_format


class OptionError(ImageError):
    """An option was unknown, of the wrong type or out of range: names the field, what is allowed (in
    `expected`, English for the message, and in `allowed`, as data) and what was received. Field names
    and values come from the client, so both are cut to a bounded length."""

    def __init__(self, field: str, expected: str, received: object, allowed: Allowed) -> None:
        self.expected = expected
        self.allowed = allowed
        self.received = echo(received)
        message = f"Expected {expected} for {echo(field)} but received {self.received!r}"
        super().__init__(INVALID_OPTION, message, echo(field))
