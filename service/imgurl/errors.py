"""Refusals of an /img URL, each with its HTTP status decided here (mapped in api/errors.py), in
the way jobs/errors.py declares its own until the service's error-code registry lands."""

from __future__ import annotations

from ..imaging.errors import echo

__all__ = ["InvalidUrlOption", "MalformedUrl", "SignatureInvalid", "UrlError", "UrlExpired"]


class UrlError(Exception):
    status = 422
    code = "invalid_url"
    reason: str | None = "bad_input"  # rejection metric label
    retry_after: int | None = None
    field: str | None = None
    allowed: str | None = None
    received: str | None = None


class SignatureInvalid(UrlError):
    status, code, reason = 403, "signature_invalid", "bad_input"

    def __init__(self, unsigned_allowed: bool) -> None:
        hint = (
            "sign it with one of URL_SIGNING_KEY/URL_SIGNING_SALT, or use insecure as the signature"
            if unsigned_allowed
            else "sign it with one of URL_SIGNING_KEY/URL_SIGNING_SALT (unsigned URLs are off)"
        )
        super().__init__(f"The URL's signature is missing or does not match; {hint}")
        self.field = "signature"


class UrlExpired(UrlError):
    status, code, reason = 410, "url_expired", "bad_input"

    def __init__(self, expires: int) -> None:
        super().__init__(f"The URL expired at {expires} (unix time; its expires option)")
        self.field = "expires"


class MalformedUrl(UrlError):
    """The path is not /{signature}/{options}/{source}: a part is missing or cannot be decoded."""

    status, code = 422, "invalid_url"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidUrlOption(UrlError):
    """A processing option that is unknown, not available yet, or has arguments it does not take.
    Names the option, what it accepts and what was received (cut like any echoed client value)."""

    status, code = 422, "invalid_option"

    def __init__(self, option: str, allowed: str, received: object) -> None:
        self.field = echo(option)
        self.allowed = allowed
        self.received = echo(received)
        super().__init__(f"Expected {allowed} for the URL option {self.field} but received {self.received!r}")
