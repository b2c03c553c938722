"""service/sources/local.py: files under SOURCE_DIR, and no way out of it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from service.sources.errors import SourceNotFound, SourceTooLarge
from service.sources.local import LocalLoader


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "photos").mkdir(parents=True)
    (root / "photos" / "a.jpg").write_bytes(b"jpeg bytes")
    (tmp_path / "secret.txt").write_bytes(b"outside")
    os.symlink(tmp_path / "secret.txt", root / "out-link.jpg")
    os.symlink(root / "photos" / "a.jpg", root / "in-link.jpg")
    os.symlink(tmp_path, root / "out-dir")
    return root


def _read(loader: LocalLoader, location: str) -> bytes:
    async def run() -> bytes:
        info = await loader.stat(location)
        return await loader.read(location, info)

    return asyncio.run(run())


def test_reads_a_file_under_the_root(tree: Path) -> None:
    loader = LocalLoader(str(tree), 1000)
    assert _read(loader, "/photos/a.jpg") == b"jpeg bytes"
    assert _read(loader, "/in-link.jpg") == b"jpeg bytes"  # a link that stays inside
    info = asyncio.run(loader.stat("/photos/a.jpg"))
    assert info.size == 10 and not info.immutable and info.identity.startswith("local:")


@pytest.mark.parametrize(
    "location",
    [
        "/../secret.txt",
        "/photos/../../secret.txt",
        "/out-link.jpg",  # a symlink pointing out
        "/out-dir/secret.txt",  # through a linked directory
        "//" + "etc/passwd",
        "/photos",  # a directory
        "/",
        "/missing.jpg",
        "photos/a.jpg",  # not absolute
        "/photos/a.jpg\x00.png",
    ],
)
def test_everything_else_is_not_found(tree: Path, location: str) -> None:
    with pytest.raises(SourceNotFound):
        _read(LocalLoader(str(tree), 1000), location)


def test_absolute_paths_stay_under_the_root(tree: Path) -> None:
    outside = str(tree.parent / "secret.txt")
    with pytest.raises(SourceNotFound):
        _read(LocalLoader(str(tree), 1000), outside)


def test_off_without_a_root_and_bounded(tree: Path) -> None:
    with pytest.raises(SourceNotFound):
        _read(LocalLoader("", 1000), "/photos/a.jpg")
    with pytest.raises(SourceTooLarge):
        _read(LocalLoader(str(tree), 5), "/photos/a.jpg")


def test_a_file_replaced_after_stat_is_not_read_under_the_old_identity(tree: Path) -> None:
    loader = LocalLoader(str(tree), 1000)
    info = asyncio.run(loader.stat("/photos/a.jpg"))
    (tree / "photos" / "a.jpg").unlink()
    (tree / "photos" / "a.jpg").write_bytes(b"other bytes!")
    with pytest.raises(SourceNotFound):
        asyncio.run(loader.read("/photos/a.jpg", info))
