"""service/sources/errors.py: a source's refusals name their registry codes; missing and unreachable read alike."""

from __future__ import annotations

from service import errors
from service.errors import ServiceError
from service.sources.errors import (
    SourceError,
    SourceNotFound,
    SourceStorageFull,
    SourceTooLarge,
    SourceUnsupported,
)


def test_codes_and_statuses() -> None:
    cases = [
        (SourceNotFound(), errors.SOURCE_NOT_FOUND, 404),
        (SourceUnsupported("x"), errors.SOURCE_UNSUPPORTED, 422),
        (SourceTooLarge(10, 5), errors.SOURCE_TOO_LARGE, 422),
        (SourceStorageFull(10, 5), errors.STORAGE_FULL, 507),
    ]
    for error, code, status in cases:
        assert isinstance(error, SourceError) and isinstance(error, ServiceError)
        assert (error.code, error.status) == (code, status)
    assert SourceTooLarge(10, 5).code.reason == "too_large"


def test_a_missing_source_is_not_counted_as_a_rejection_and_says_so_plainly() -> None:
    assert "never existed" in str(SourceNotFound()) and SourceNotFound().code.reason is None
    assert SourceNotFound().field == "source"


def test_an_unsupported_source_says_which_sources_are() -> None:
    assert "stored:///" in str(SourceUnsupported("x")) and "local:///" in str(SourceUnsupported("x"))


def test_full_source_storage_is_the_jobs_storage_full() -> None:
    # Sources and jobs share MAX_STORAGE_BYTES, so a client reads the same code for either.
    assert SourceStorageFull(10, 5).code is errors.STORAGE_FULL
    assert "10 of 5 bytes" in str(SourceStorageFull(10, 5))
