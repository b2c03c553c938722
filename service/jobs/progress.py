"""Where a job stands, computed once from one read of its files: every output's state, the
counts, and the job's own state word. The HTTP layer shapes this into its status document; the
runner's scan counts jobs by the same word."""

from __future__ import annotations

from typing import Literal

import msgspec

from .items import ItemId, decode_item, encode_item
from .leases import LeaseView
from .model import ItemError, JobManifest, OutputItem

__all__ = ["JobProgress", "JobSnapshot", "JobState", "OutputProgress", "OutputState", "job_progress"]

JobState = Literal["queued", "running", "done", "failed"]
OutputState = Literal["pending", "running", "done", "failed"]


class JobSnapshot(msgspec.Struct):
    """One read of a job's mutable files."""

    manifest: JobManifest
    outputs: dict[str, tuple[int, float]]  # name -> (bytes, mtime)
    errors: dict[ItemId, ItemError]
    decoded: set[ItemId]
    claims: dict[ItemId, LeaseView]
    finished: bool
    scores: dict[str, float] = {}

    def output_error(self, index: int) -> ItemError | None:
        item = self.manifest.outputs[index]
        return self.errors.get(encode_item(index)) or self.errors.get(decode_item(item.decode))

    def settled(self) -> bool:
        return all(
            o.name in self.outputs or self.output_error(i) is not None for i, o in enumerate(self.manifest.outputs)
        )

    def counts(self) -> tuple[int, int]:
        """(done, failed) outputs."""
        done = sum(1 for o in self.manifest.outputs if o.name in self.outputs)
        failed = sum(
            1
            for i, o in enumerate(self.manifest.outputs)
            if o.name not in self.outputs and self.output_error(i) is not None
        )
        return done, failed

    def active_claim(self, item: ItemId) -> bool:
        view = self.claims.get(item)
        return view is not None and not view.released


class OutputProgress(msgspec.Struct, frozen=True):
    item: OutputItem
    state: OutputState
    bytes: int | None = None  # once done
    score: float | None = None  # once done, when the job asked for scores
    error: str | None = None  # once failed


class JobProgress(msgspec.Struct, frozen=True):
    manifest: JobManifest
    state: JobState
    done: int
    failed: int
    updated: float  # Unix time of the newest finished output (the creation while queued)
    outputs: tuple[OutputProgress, ...]

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def total(self) -> int:
        return len(self.manifest.outputs)


def _output(snap: JobSnapshot, index: int, item: OutputItem) -> OutputProgress:
    done = snap.outputs.get(item.name)
    if done:
        return OutputProgress(item, "done", done[0], snap.scores.get(item.name))
    error = snap.output_error(index)
    if error is not None:
        return OutputProgress(item, "failed", error=error.message)
    return OutputProgress(item, "running" if snap.active_claim(encode_item(index)) else "pending")


def job_progress(snap: JobSnapshot) -> JobProgress:
    m = snap.manifest
    outputs = tuple(_output(snap, index, item) for index, item in enumerate(m.outputs))
    done, failed = snap.counts()
    state: JobState
    if done + failed == len(m.outputs):
        # done: every output settled and some exist (per-output errors say which failed);
        # failed: nothing could be made at all.
        state = "done" if done else "failed"
    elif done or failed or any(snap.active_claim(k) for k in snap.claims):
        state = "running"
    else:
        state = "queued"
    updated = max([m.created, *(snap.outputs[o.item.name][1] for o in outputs if o.state == "done")])
    return JobProgress(m, state, done, failed, m.created if state == "queued" else updated, outputs)
