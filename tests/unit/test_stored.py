"""service/sources/stored.py: uploads kept by their SHA-256, expiring, within MAX_STORAGE_BYTES."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import pytest

from service.sources.errors import SourceNotFound, SourceStorageFull
from service.sources.stored import SourceStore, StoredLoader, source_url


def test_stored_by_content_and_read_back(tmp_path: Path) -> None:
    store = SourceStore(str(tmp_path), ttl_seconds=100, max_bytes=10_000)
    store.ensure()
    now = time.time()
    stored = store.put(b"image bytes", 40, 30, "jpeg", now=now)
    sha = hashlib.sha256(b"image bytes").hexdigest()
    assert stored.source == source_url(sha) == f"stored:///{sha}"
    assert (stored.bytes, stored.width, stored.height, stored.format) == (11, 40, 30, "jpeg")
    assert stored.expires_at == now + 100
    assert store.describe(sha, now=now + 50) == stored
    assert store.read(sha) == b"image bytes"
    loader = StoredLoader(store)
    info = asyncio.run(loader.stat("/" + sha))
    assert info.immutable and info.identity == f"sha256:{sha}" and (info.width, info.height) == (40, 30)
    assert asyncio.run(loader.read("/" + sha, info)) == b"image bytes"


def test_the_same_bytes_are_stored_once_and_renewed(tmp_path: Path) -> None:
    store = SourceStore(str(tmp_path), ttl_seconds=100, max_bytes=20)
    store.put(b"0123456789", 1, 1, "png", now=1000.0)
    again = store.put(b"0123456789", 1, 1, "png", now=1090.0)  # would not fit twice: stored once
    assert (again.stored_at, again.expires_at) == (1000, 1190)  # first stored, renewed
    assert store.describe(again.sha256, now=1150) == again


def test_sweeps_at_most_once_per_interval(tmp_path: Path) -> None:
    store = SourceStore(str(tmp_path), ttl_seconds=100, max_bytes=10_000)
    store.put(b"a", 1, 1, "png", now=1000.0)
    store.put(b"b", 1, 1, "png", now=1000.0)
    assert store.sweep_if_due(1200.0, 60) == 2
    store.put(b"c", 1, 1, "png", now=1000.0)
    assert store.sweep_if_due(1230.0, 60) == 0  # swept 30 s ago
    assert store.sweep_if_due(1261.0, 60) == 1


def test_expired_sources_are_gone_and_swept(tmp_path: Path) -> None:
    store = SourceStore(str(tmp_path), ttl_seconds=100, max_bytes=10_000)
    stored = store.put(b"old", 1, 1, "png", now=1000.0)
    kept = store.put(b"new", 1, 1, "png", now=1090.0)
    with pytest.raises(SourceNotFound):
        store.describe(stored.sha256, now=1100)
    assert store.sweep(now=1100) == 1
    assert store.bytes_stored() == len(b"new") + len((tmp_path / kept.sha256[:2] / f"{kept.sha256}.json").read_bytes())
    assert store.describe(kept.sha256, now=1100) == kept


def test_full_storage_is_refused(tmp_path: Path) -> None:
    store = SourceStore(str(tmp_path), ttl_seconds=100, max_bytes=300)
    store.put(b"x" * 100, 1, 1, "png", now=1.0)
    with pytest.raises(SourceStorageFull) as err:
        store.put(b"y" * 200, 1, 1, "png", now=2.0)
    assert err.value.status == 507


@pytest.mark.parametrize("name", ["", "abc", "../" + "a" * 61, "A" * 64, "g" * 64])
def test_names_that_are_not_a_sha256_are_not_found(tmp_path: Path, name: str) -> None:
    with pytest.raises(SourceNotFound):
        SourceStore(str(tmp_path), 100, 100).describe(name)


def test_the_counted_directory_bounds_sources_with_its_other_files(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "input").write_bytes(b"j" * 250)
    store = SourceStore(str(tmp_path / "sources"), ttl_seconds=100, max_bytes=300, counted=str(tmp_path))
    store.ensure()
    with pytest.raises(SourceStorageFull):
        store.put(b"x" * 100, 1, 1, "png")
    assert store.bytes_stored() == 250
