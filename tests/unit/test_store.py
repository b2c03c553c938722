"""Job storage on a real directory: atomic creation and removal, progress read back from files,
names looked up in the manifest (never joined from a request), expiry."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from service.imaging.options import ConvertOptions
from service.jobs.items import decode_item, encode_item
from service.jobs.leases import try_claim
from service.jobs.model import DecodeItem, ItemError, JobManifest, JobOriginal, OutputItem
from service.jobs.store import JobStore, new_job_id, valid_job_id


def manifest(job_id: str, created: float = 1000.0, ttl: float = 100.0) -> JobManifest:
    outputs = tuple(
        OutputItem(f"img_{w}x{w // 2}_q80.jpg", w, w, w // 2, 80, "jpeg", f"g0-{w}.v", 0) for w in (200, 100)
    )
    decode = DecodeItem(200, ((200, "g0-200.v"), (100, "g0-100.v")))
    original = JobOriginal(400, 200, "jpeg", 3, "img")
    return JobManifest(job_id, created, created + ttl, ConvertOptions(), original, (decode,), outputs)


def test_ids_are_long_random_and_validated():
    ids = {new_job_id() for _ in range(100)}
    assert len(ids) == 100 and all(valid_job_id(i) and len(i) == 32 for i in ids)
    for bad in ("..", "../x", "a" * 31, "a" * 33, "a/" + "a" * 30, ".incoming-" + "a" * 22, ""):
        assert not valid_job_id(bad)


def test_state_is_read_back_from_files(tmp_path):
    store = JobStore(tmp_path)
    jid = new_job_id()
    store.create(manifest(jid), b"abc")
    assert [p.name for p in tmp_path.iterdir()] == [jid]  # no staging directory left
    progress = store.progress(jid, now=1001)
    assert progress is not None and progress.state == "queued" and progress.total == 2

    assert try_claim(store.leases_dir(jid), str(encode_item(0)), 0) is not None
    progress = store.progress(jid, now=1001)
    assert progress is not None and progress.state == "running" and progress.outputs[0].state == "running"

    out = Path(store.outputs_dir(jid))
    tmp = out / ".tmp-1"
    tmp.write_bytes(b"x" * 10)
    assert store.publish(jid, str(tmp), "img_200x100_q80.jpg")
    again = out / ".tmp-2"
    again.write_bytes(b"y")
    assert not store.publish(jid, str(again), "img_200x100_q80.jpg")  # never made twice
    assert not again.exists() and (out / "img_200x100_q80.jpg").read_bytes() == b"x" * 10

    store.record_error(jid, encode_item(1), ItemError("unprocessable", "bad"))
    progress = store.progress(jid, now=1001)
    assert progress is not None
    assert (progress.state, progress.done, progress.failed) == ("done", 1, 1)
    assert [o.state for o in progress.outputs] == ["done", "failed"] and progress.outputs[1].error == "bad"
    assert progress.outputs[0].bytes == 10 and progress.updated >= 1000.0


def test_a_decode_failure_fails_its_outputs(tmp_path):
    store = JobStore(tmp_path)
    jid = new_job_id()
    store.create(manifest(jid), b"abc")
    store.record_error(jid, decode_item(0), ItemError("unprocessable", "corrupt"))
    progress = store.progress(jid, now=1001)
    assert progress is not None and progress.state == "failed" and progress.failed == 2


def test_only_finished_outputs_named_in_the_manifest_are_reachable(tmp_path):
    store = JobStore(tmp_path)
    jid = new_job_id()
    store.create(manifest(jid), b"abc")
    (tmp_path / jid / "outputs" / "img_100x50_q80.jpg").write_bytes(b"z")
    assert store.output_file(jid, "img_100x50_q80.jpg", now=1001) is not None
    assert store.output_file(jid, "img_200x100_q80.jpg", now=1001) is None  # not finished
    for name in ("input", "job.json", "../input", "../job.json", "/etc/passwd", ".tmp-1", "img_100x50_q80.jpg/"):
        assert store.output_file(jid, name, now=1001) is None
    assert store.output_file("../" + jid, "img_100x50_q80.jpg", now=1001) is None


def test_expired_jobs_vanish_at_once_and_are_swept(tmp_path):
    store = JobStore(tmp_path)
    jid = new_job_id()
    store.create(manifest(jid, created=1000, ttl=100), b"abc")
    assert store.progress(jid, now=1099) is not None
    assert store.progress(jid, now=1100) is None and store.output_file(jid, "img_100x50_q80.jpg", now=1100) is None
    assert store.sweep(now=1100) == 1
    assert list(tmp_path.iterdir()) == []


def test_remove_is_atomic_and_leftovers_are_swept(tmp_path):
    store = JobStore(tmp_path)
    jid = new_job_id()
    store.create(manifest(jid), b"abc")
    assert store.remove(jid) and not store.remove(jid)
    assert store.progress(jid, now=1001) is None
    (tmp_path / ".deleted-leftover").mkdir()
    stale = tmp_path / ".incoming-x"
    stale.mkdir()
    os.utime(stale, (0, 0))
    store.sweep(now=10_000)
    assert list(tmp_path.iterdir()) == []


def test_manifest_round_trips_as_json(tmp_path):
    m = manifest(new_job_id())
    assert msgspec.json.decode(msgspec.json.encode(m), type=JobManifest) == m


def test_bytes_beside_jobs_count_what_shares_the_directory_and_not_the_jobs(tmp_path):
    store = JobStore(tmp_path)
    store.ensure()
    job = manifest(new_job_id())
    store.create(job, b"x" * 1000)
    (tmp_path / "sources" / "ab").mkdir(parents=True)
    (tmp_path / "sources" / "ab" / "blob").write_bytes(b"s" * 300)
    (tmp_path / ".incoming-half").mkdir()
    (tmp_path / ".incoming-half" / "input").write_bytes(b"i" * 50)  # a submission reserved by its ledger
    assert store.bytes_beside_jobs() == 300
    assert store.bytes_stored() >= 1000 + 300 + 50
