"""Refusals about a source (where an input comes from). Each names its code from the registry
(service/errors.py), which gives its HTTP status. A missing source and one outside SOURCE_DIR
answer alike: the answer must not tell which files exist."""

from __future__ import annotations

from ..errors import SOURCE_NOT_FOUND, SOURCE_TOO_LARGE, SOURCE_UNSUPPORTED, STORAGE_FULL, ServiceError

__all__ = [
    "SUPPORTED_SOURCES",
    "SourceError",
    "SourceNotFound",
    "SourceStorageFull",
    "SourceTooLarge",
    "SourceUnsupported",
]

SUPPORTED_SOURCES = "local:///path (under SOURCE_DIR) or stored:///<sha256> (from POST /api/sources)"


class SourceError(ServiceError):
    """Base of a source's refusals."""


class SourceNotFound(SourceError):
    code = SOURCE_NOT_FOUND

    def __init__(self) -> None:
        super().__init__(
            "No such source: it never existed, has expired, or is not reachable from this service", field="source"
        )


class SourceUnsupported(SourceError):
    """A source URL whose scheme this service does not load (yet)."""

    code = SOURCE_UNSUPPORTED

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}; a source is {SUPPORTED_SOURCES}", field="source")


class SourceTooLarge(SourceError):
    code = SOURCE_TOO_LARGE

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"The source is {size} bytes, over the limit of {limit} bytes (MAX_UPLOAD_BYTES)", field="source"
        )


class SourceStorageFull(SourceError):
    """The stored sources share MAX_STORAGE_BYTES with the jobs, so this is the jobs' storage_full."""

    code = STORAGE_FULL

    def __init__(self, used: int, limit: int) -> None:
        super().__init__(
            f"Source storage is full ({used} of {limit} bytes, MAX_STORAGE_BYTES); retry once older sources expire"
        )
