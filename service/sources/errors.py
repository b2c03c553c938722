"""Refusals about a source (where an input comes from), each with its HTTP status decided here
(mapped in api/errors.py), in the way jobs/errors.py declares its own until the service's
error-code registry lands. A missing source and one outside SOURCE_DIR answer alike: the
answer must not tell which files exist."""

from __future__ import annotations

__all__ = ["SourceError", "SourceNotFound", "SourceStorageFull", "SourceTooLarge", "SourceUnsupported"]


class SourceError(Exception):
    status = 404
    code = "source_error"
    reason: str | None = "bad_input"  # rejection metric label
    retry_after: int | None = None
    field: str | None = "source"
    allowed: str | None = None
    received: str | None = None


class SourceNotFound(SourceError):
    status, code, reason = 404, "source_not_found", None

    def __init__(self) -> None:
        super().__init__("No such source: it never existed, has expired, or is not reachable from this service")


class SourceUnsupported(SourceError):
    """A source URL whose scheme this service does not load (yet)."""

    status, code = 422, "source_unsupported"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.allowed = "local:///path (under SOURCE_DIR) or stored:///<sha256> (from POST /api/sources)"


class SourceTooLarge(SourceError):
    status, code, reason = 422, "source_too_large", "too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"The source is {size} bytes, over the limit of {limit} bytes (MAX_UPLOAD_BYTES)")


class SourceStorageFull(SourceError):
    status, code, reason, field = 507, "storage_full", "overload", None

    def __init__(self, used: int, limit: int) -> None:
        super().__init__(
            f"Source storage is full ({used} of {limit} bytes, MAX_STORAGE_BYTES); retry once older sources expire"
        )
