"""Uploads handed to workers through shared-memory files (service/transfer.py), in a temporary directory."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from service import transfer


def _empty_pool() -> None:
    for file in transfer._free:
        transfer._discard(file)
    transfer._free.clear()


@pytest.fixture(autouse=True)
def empty_pool():
    # Before too: the free files are per process, and conversions run in this process by other
    # test modules (the app under TestClient) leave /dev/shm files in it.
    _empty_pool()
    yield
    _empty_pool()


def test_a_worker_reads_back_exactly_what_was_put(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    with transfer.shared(data, str(tmp_path)) as blob:
        assert blob is not None and Path(blob.path).parent == tmp_path
        assert transfer.take(blob) == data
        assert os.stat(blob.path).st_mode & 0o777 == 0o600


def test_files_are_reused_and_a_shorter_upload_reads_only_its_own_bytes(tmp_path: Path) -> None:
    long, short = os.urandom(400_000), os.urandom(200_000)
    with transfer.shared(long, str(tmp_path)) as first:
        assert first is not None
    with transfer.shared(short, str(tmp_path)) as second:
        assert second is not None and second.path == first.path  # the same file, rewritten
        assert transfer.take(second) == short
    assert len(list(tmp_path.iterdir())) == 1


def test_a_file_an_abandoned_job_may_still_read_is_removed_not_reused(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    with pytest.raises(RuntimeError), transfer.shared(data, str(tmp_path)) as blob:
        raise RuntimeError("client gone")
    assert blob is not None and not Path(blob.path).exists()
    with transfer.shared(data, str(tmp_path)) as fresh:
        assert fresh is not None and fresh.path != blob.path


def test_small_uploads_and_a_missing_directory_go_inline(tmp_path: Path) -> None:
    with transfer.shared(b"x" * 1000, str(tmp_path)) as blob:
        assert blob is None
    with transfer.shared(os.urandom(200_000), str(tmp_path / "absent")) as blob:
        assert blob is None


def test_files_of_dead_servers_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / f"{transfer.PREFIX}99999999-0123456789abcdef"  # no such pid
    stale.write_bytes(b"left by a killed server")
    other = tmp_path / "unrelated"
    other.write_bytes(b"")
    monkeypatch.setattr(transfer, "_swept", False)
    with transfer.shared(os.urandom(200_000), str(tmp_path)):
        pass
    assert not stale.exists() and other.exists()


def test_a_truncated_file_is_an_error_not_a_short_image(tmp_path: Path) -> None:
    with transfer.shared(os.urandom(200_000), str(tmp_path)) as blob:
        assert blob is not None
        os.truncate(blob.path, 1000)
        with pytest.raises(OSError, match="expected 200000"):
            transfer.take(blob)


def test_an_output_comes_back_through_the_lent_file(tmp_path: Path) -> None:
    encoded = os.urandom(500_000)
    with transfer.output(str(tmp_path)) as out:
        assert out is not None and out.size == 0
        written = transfer.give(out, encoded)  # in the worker
        assert written.path == out.path and written.size == len(encoded)
        assert transfer.fetch(written) == encoded
    # Given back: the next upload or output reuses the file and reads only its own bytes.
    short = os.urandom(150_000)
    with transfer.shared(short, str(tmp_path)) as blob:
        assert blob is not None and blob.path == out.path
        assert transfer.take(blob) == short


def test_an_output_file_a_worker_may_still_write_is_removed_not_reused(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError), transfer.output(str(tmp_path)) as out:
        raise TimeoutError("deadline passed while the worker encodes")
    assert out is not None and not Path(out.path).exists()
    assert not transfer._free


def test_idle_files_stay_within_the_byte_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transfer, "POOL_BYTES", 700_000)
    with transfer.shared(os.urandom(400_000), str(tmp_path)), transfer.shared(os.urandom(400_000), str(tmp_path)):
        pass
    assert [f.size for f in transfer._free] == [400_000]  # the second would pass the budget: removed
    assert len(list(tmp_path.iterdir())) == 1


def test_a_worker_answers_inline_when_the_lent_file_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/dev/shm full or the file gone: the output still arrives, through the pipe."""
    import pyvips

    from service.imaging import worker
    from service.imaging.parsing import parse_options
    from service.imaging.tasks import ConvertTask
    from service.imaging.worker import run_convert
    from service.settings import Settings

    monkeypatch.setattr(worker, "_ready", True)  # not init_worker: it would ignore SIGINT/SIGTERM in pytest

    noise = pyvips.Image.gaussnoise(400, 300, sigma=60, mean=128).cast("uchar")
    source = noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave_buffer(Q=95)
    options = parse_options({"format": "png"})
    ok = transfer.lend(str(tmp_path))
    gone = transfer.Blob(str(tmp_path / "removed"), 0)
    limits = Settings().limits
    try:
        lent = run_convert(ConvertTask(source, options, limits, time.time() + 60, None, ok))
        assert lent.data == b"" and lent.blob is not None and lent.blob.size >= transfer.MIN_BYTES
        inline = run_convert(ConvertTask(source, options, limits, time.time() + 60, None, gone))
        assert inline.blob is None and inline.data == transfer.fetch(lent.blob)
    finally:
        transfer.release(ok)
