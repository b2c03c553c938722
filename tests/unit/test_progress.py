"""A job's progress from one snapshot of its files: output states, counts and the state word."""

from __future__ import annotations

from service.imaging.options import ConvertOptions
from service.jobs.items import decode_item, encode_item
from service.jobs.leases import RELEASED, LeaseView
from service.jobs.model import DecodeItem, ItemError, JobManifest, JobOriginal, OutputItem
from service.jobs.progress import JobSnapshot, job_progress

NAMES = ("a_200x100.jpg", "a_100x50.jpg", "a_50x25.jpg")


def snapshot(**changes) -> JobSnapshot:
    outputs = tuple(
        OutputItem(n, w, w, w // 2, None, "jpeg", f"g0-{w}.v", 0) for n, w in zip(NAMES, (200, 100, 50), strict=True)
    )
    decode = DecodeItem(200, tuple((o.requested_width, o.raster) for o in outputs))
    manifest = JobManifest(
        "j" * 32, 1000.0, 2000.0, ConvertOptions(), JobOriginal(400, 200, "jpeg", 9, "a"), (decode,), outputs
    )
    fields = {"outputs": {}, "errors": {}, "decoded": set(), "claims": {}, "finished": False, **changes}
    return JobSnapshot(manifest, **fields)


def test_a_new_job_is_queued_with_every_output_pending():
    progress = job_progress(snapshot())
    assert (progress.state, progress.done, progress.failed, progress.total) == ("queued", 0, 0, 3)
    assert [o.state for o in progress.outputs] == ["pending"] * 3 and progress.updated == 1000.0
    assert progress.id == "j" * 32


def test_a_held_item_makes_the_job_running_and_a_released_one_does_not():
    held = job_progress(snapshot(claims={decode_item(0): LeaseView(0, "token 1")}))
    assert held.state == "running" and [o.state for o in held.outputs] == ["pending"] * 3
    encoding = job_progress(snapshot(claims={encode_item(1): LeaseView(2, "token 0")}))
    assert [o.state for o in encoding.outputs] == ["pending", "running", "pending"]
    released = job_progress(snapshot(claims={decode_item(0): LeaseView(0, RELEASED)}))
    assert released.state == "queued"


def test_done_and_failed_outputs_settle_the_job():
    snap = snapshot(
        outputs={NAMES[0]: (123, 1500.0), NAMES[1]: (45, 1400.0)},
        errors={encode_item(2): ItemError("unprocessable", "too small")},
        scores={NAMES[0]: 0.97},
    )
    progress = job_progress(snap)
    assert (progress.state, progress.done, progress.failed) == ("done", 2, 1)
    first, second, third = progress.outputs
    assert (first.state, first.bytes, first.score) == ("done", 123, 0.97)
    assert (second.state, second.bytes, second.score) == ("done", 45, None)
    assert (third.state, third.error, third.bytes) == ("failed", "too small", None)
    assert progress.updated == 1500.0  # the newest output
    assert snap.settled() and snap.counts() == (2, 1)


def test_a_failed_decode_fails_every_output_it_feeds():
    snap = snapshot(errors={decode_item(0): ItemError("unprocessable", "corrupt")})
    progress = job_progress(snap)
    assert (progress.state, progress.failed) == ("failed", 3)
    assert {o.error for o in progress.outputs} == {"corrupt"}


def test_some_outputs_done_is_running_until_all_settle():
    progress = job_progress(snapshot(outputs={NAMES[2]: (9, 1200.0)}, decoded={decode_item(0)}))
    assert (progress.state, progress.done) == ("running", 1) and progress.updated == 1200.0
    assert not snapshot(outputs={NAMES[2]: (9, 1200.0)}).settled()
