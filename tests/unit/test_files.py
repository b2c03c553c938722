"""Atomic writes (service/files.py) on a real directory: a reader sees the old file or the whole
new one, never a part, and a failed write leaves no temporary file behind."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from service import files


def test_a_temporary_path_is_hidden_in_the_same_directory(tmp_path: Path) -> None:
    first, second = files.temp_path(str(tmp_path), ".part"), files.temp_path(str(tmp_path), ".part")
    assert first != second
    for path in (first, second):
        assert os.path.dirname(path) == str(tmp_path)
        assert os.path.basename(path).startswith(files.TEMP_PREFIX) and path.endswith(".part")
        assert os.path.basename(path).startswith(".")  # every reader skips dot names


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    files.atomic_write(str(target), b"first")
    files.atomic_write(str(target), b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["manifest.json"]


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "big"
    old, new = b"a" * 4_000_000, b"b" * 4_000_000
    files.atomic_write(str(target), old)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            seen.add(data[:1] + data[-1:] + len(data).to_bytes(8, "big"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(20):
            files.atomic_write(str(target), new)
            files.atomic_write(str(target), old)
    finally:
        done.set()
        reader.join()
    whole = {b"aa" + len(old).to_bytes(8, "big"), b"bb" + len(new).to_bytes(8, "big")}
    assert seen and seen <= whole


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "kept"
    files.atomic_write(str(target), b"old")
    with pytest.raises(TypeError):
        files.atomic_write(str(target), "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["kept"]


def test_a_write_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        files.atomic_write(str(tmp_path / "gone" / "f"), b"x")
    assert os.listdir(tmp_path) == []
