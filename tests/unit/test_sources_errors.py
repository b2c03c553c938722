"""service/sources/errors.py: a source's refusals carry their status; missing and unreachable read alike."""

from __future__ import annotations

from service.sources.errors import (
    SourceError,
    SourceNotFound,
    SourceStorageFull,
    SourceTooLarge,
    SourceUnsupported,
)


def test_statuses_and_codes() -> None:
    cases = [
        (SourceNotFound(), 404, "source_not_found"),
        (SourceUnsupported("x"), 422, "source_unsupported"),
        (SourceTooLarge(10, 5), 422, "source_too_large"),
        (SourceStorageFull(10, 5), 507, "storage_full"),
    ]
    for error, status, code in cases:
        assert isinstance(error, SourceError) and (error.status, error.code) == (status, code)
    assert "never existed" in str(SourceNotFound()) and SourceNotFound().reason is None
    assert SourceUnsupported("x").allowed is not None and "stored:///" in SourceUnsupported("x").allowed
