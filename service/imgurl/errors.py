"""Refusals of an /img URL. Each names its code from the registry (service/errors.py), which gives
its HTTP status; this module knows nothing about HTTP."""

from __future__ import annotations

from ..errors import INVALID_URL, INVALID_URL_OPTION, SIGNATURE_INVALID, URL_EXPIRED, ServiceError
from ..imaging.errors import echo

__all__ = ["InvalidUrlOption", "MalformedUrl", "SignatureInvalid", "UrlError", "UrlExpired"]


class UrlError(ServiceError):
    """Base of an /img URL's refusals."""


class SignatureInvalid(UrlError):
    code = SIGNATURE_INVALID

    def __init__(self, unsigned_allowed: bool) -> None:
        hint = (
            "sign it with one of URL_SIGNING_KEY/URL_SIGNING_SALT, or use insecure as the signature"
            if unsigned_allowed
            else "sign it with one of URL_SIGNING_KEY/URL_SIGNING_SALT (unsigned URLs are off)"
        )
        super().__init__(f"The URL's signature is missing or does not match; {hint}", field="signature")


class UrlExpired(UrlError):
    code = URL_EXPIRED

    def __init__(self, expires: int) -> None:
        super().__init__(f"The URL expired at {expires} (unix time; its expires option)", field="expires")


class MalformedUrl(UrlError):
    """The path is not /{signature}/{options}/{source}: a part is missing or cannot be decoded."""

    code = INVALID_URL

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class InvalidUrlOption(UrlError):
    """A processing option that is unknown, not available yet, or has arguments it does not take.
    Names the option, what it accepts and what was received (cut like any echoed client value)."""

    code = INVALID_URL_OPTION

    def __init__(self, option: str, expected: str, received: object) -> None:
        self.expected = expected
        self.received = echo(received)
        field = echo(option)
        super().__init__(f"Expected {expected} for the URL option {field} but received {self.received!r}", field=field)
