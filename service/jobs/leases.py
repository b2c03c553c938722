"""Claims on job items between replicas, built only on what NFSv4.1 (EFS) makes atomic.

A claim is the file `claims/<item>.<generation>`, created with O_CREAT|O_EXCL: of several
replicas trying the same generation exactly one succeeds. The holder renews its lease by
rewriting the file (temporary file + rename in the same directory) with a new beat count.
Nobody compares clocks across machines: an observer remembers when *it* first saw a claim's
current content (its own monotonic clock) and calls the claim stale once that content has not
changed for a whole lease. A stale claim is taken over by creating the next generation, again
exclusively; the old holder sees the newer generation on its next renewal and drops its result.
Releasing (drain, shutdown) writes "released", which any replica may claim at once.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass

import msgspec

from ..files import atomic_write

__all__ = [
    "RELEASED",
    "Lease",
    "LeaseView",
    "LeaseWatch",
    "current_leases",
    "release",
    "renew",
    "superseded",
    "try_claim",
]

RELEASED = "released"


class Lease(msgspec.Struct):
    directory: str
    item: str
    generation: int
    token: str
    beats: int = 0
    taken_over: bool = False  # this claim replaced a stale one (a lost lease)

    @property
    def path(self) -> str:
        return os.path.join(self.directory, f"{self.item}.{self.generation}")


class LeaseView(msgspec.Struct, frozen=True):
    generation: int
    content: str

    @property
    def released(self) -> bool:
        return self.content == RELEASED


def _parse(name: str) -> tuple[str, int] | None:
    if name.startswith("."):
        return None
    item, _, gen = name.rpartition(".")
    return (item, int(gen)) if item and gen.isdigit() else None


def current_leases(directory: str) -> dict[str, LeaseView]:
    """The newest claim of every item in a job's claims directory."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return {}
    newest: dict[str, int] = {}
    for name in names:
        parsed = _parse(name)
        if parsed is not None and parsed[1] >= newest.get(parsed[0], -1):
            newest[parsed[0]] = parsed[1]
    views: dict[str, LeaseView] = {}
    for item, gen in newest.items():
        try:
            with open(os.path.join(directory, f"{item}.{gen}")) as f:
                views[item] = LeaseView(gen, f.read())
        except FileNotFoundError:  # the job is being removed
            continue
    return views


def try_claim(directory: str, item: str, generation: int, *, taken_over: bool = False) -> Lease | None:
    claim = Lease(directory, item, generation, secrets.token_hex(8), taken_over=taken_over)
    try:
        fd = os.open(claim.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None  # another replica won this generation
    except FileNotFoundError:
        return None  # the job is gone
    try:
        os.write(fd, f"{claim.token} 0".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return claim


def superseded(claim: Lease) -> bool:
    """Another replica took the item over (it saw our lease lapse), or the job is gone."""
    views = current_leases(claim.directory)
    view = views.get(claim.item)
    return view is None or view.generation != claim.generation or not view.content.startswith(claim.token)


def renew(claim: Lease) -> bool:
    if superseded(claim):
        return False
    claim.beats += 1
    try:
        atomic_write(claim.path, f"{claim.token} {claim.beats}".encode())
    except FileNotFoundError:
        return False
    return True


def release(claim: Lease) -> None:
    if not superseded(claim):
        with contextlib.suppress(FileNotFoundError):
            atomic_write(claim.path, RELEASED.encode())


@dataclass
class _Seen:
    generation: int
    content: str
    since: float


class LeaseWatch:
    """Staleness of other replicas' claims, judged on this replica's monotonic clock alone."""

    def __init__(self, lease_seconds: float) -> None:
        self.lease = lease_seconds
        self._seen: dict[tuple[str, str], _Seen] = {}

    def stale(self, job_id: str, item: str, view: LeaseView, now: float) -> bool:
        key = (job_id, item)
        seen = self._seen.get(key)
        if seen is None or seen.generation != view.generation or seen.content != view.content:
            self._seen[key] = _Seen(view.generation, view.content, now)
            return False
        return now - seen.since >= self.lease

    def forget_job(self, job_id: str) -> None:
        for key in [k for k in self._seen if k[0] == job_id]:
            del self._seen[key]
