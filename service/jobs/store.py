"""Jobs on a shared directory: layout, atomic creation and removal, reading a job's state.

    STORAGE_DIR/<id>/job.json      manifest (JobManifest), written once before the job is visible
                     input         the upload, stored once
                     rasters/      decoded rasters as .v files (removed once every output settled)
                     decoded/d<k>  marker: decode item k wrote all its rasters
                     outputs/      finished outputs, published by rename (never half-written)
                     errors/<item> why an item failed (ItemError JSON)
                     scores/<name> an output's quality score, when the job asked for scores
                     claims/       leases on items (leases.py), by item name (items.py)
                     finished      created exclusively by whichever replica saw the job settle
    STORAGE_DIR/.incoming-*        a job being created (renamed to <id> when complete)
    STORAGE_DIR/.deleted-*         a job being removed (renamed away first, so it is gone at once)

A request only ever reaches a file through a job id that matches the id pattern and a name that
is in that job's manifest: names are looked up, never joined from what the client sent.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ..files import TEMP_PREFIX, atomic_write
from .items import ItemId
from .leases import current_leases
from .model import ItemError, JobManifest
from .progress import JobProgress, JobSnapshot, job_progress

__all__ = ["JobStore", "new_job_id", "valid_job_id"]

_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")  # secrets.token_urlsafe(24): 192 random bits
_INCOMING, _DELETED = ".incoming-", ".deleted-"
_ABANDONED_INCOMING_SECONDS = 3600.0  # a submission that died half-way; far beyond any upload
_DIRS = ("rasters", "decoded", "outputs", "errors", "claims", "scores")


def new_job_id() -> str:
    return secrets.token_urlsafe(24)


def valid_job_id(job_id: str) -> bool:
    return bool(_ID.match(job_id))


class JobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._manifests: dict[str, JobManifest] = {}

    def ensure(self) -> None:
        """Create the directory and prove it writable now, not at the first job (read-only mount)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(str(self.root / ".write-check"), b"")
        os.unlink(self.root / ".write-check")

    def _job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    # --- where an item's files are (no I/O) ----------------------------------------------------
    def input_path(self, job_id: str) -> str:
        return str(self._job_dir(job_id) / "input")

    def raster_path(self, job_id: str, raster: str) -> str:
        """A raster named in the manifest (a decode group writes it, an encode reads it)."""
        return str(self._job_dir(job_id) / "rasters" / raster)

    def outputs_dir(self, job_id: str) -> str:
        """Where encodes write their temporary files, so publishing is a rename in one directory."""
        return str(self._job_dir(job_id) / "outputs")

    def leases_dir(self, job_id: str) -> str:
        return str(self._job_dir(job_id) / "claims")

    # --- creation and removal ------------------------------------------------------------------
    def create(self, manifest: JobManifest, data: bytes) -> None:
        """Build the job under a hidden name, then rename it into place: no replica ever sees a
        job without its manifest and input."""
        staging = self.root / f"{_INCOMING}{manifest.id}"
        try:
            staging.mkdir()
            for name in _DIRS:
                (staging / name).mkdir()
            (staging / "input").write_bytes(data)
            (staging / "job.json").write_bytes(msgspec.json.encode(manifest))
            os.rename(staging, self._job_dir(manifest.id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def remove(self, job_id: str) -> bool:
        """Gone for every replica at the rename; the files are deleted after."""
        if not valid_job_id(job_id):
            return False
        doomed = self.root / f"{_DELETED}{job_id}-{secrets.token_hex(4)}"
        try:
            os.rename(self._job_dir(job_id), doomed)
        except FileNotFoundError:
            return False
        self._manifests.pop(job_id, None)
        shutil.rmtree(doomed, ignore_errors=True)
        return True

    # --- reading -------------------------------------------------------------------------------
    def job_ids(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.root) if valid_job_id(e.name) and e.is_dir()]
        except FileNotFoundError:
            return []

    def manifest(self, job_id: str) -> JobManifest | None:
        if not valid_job_id(job_id):
            return None
        cached = self._manifests.get(job_id)
        if cached is not None:
            if self._job_dir(job_id).is_dir():
                return cached
            del self._manifests[job_id]
            return None
        try:
            manifest = msgspec.json.decode((self._job_dir(job_id) / "job.json").read_bytes(), type=JobManifest)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except msgspec.DecodeError:
            return None  # written by a newer, incompatible version: not ours to run or show
        self._manifests[job_id] = manifest
        return manifest

    def forget_except(self, job_ids: list[str]) -> None:
        """Drop cached manifests of jobs that no longer exist (removed by another replica)."""
        keep = set(job_ids)
        for job_id in [j for j in self._manifests if j not in keep]:
            self._manifests.pop(job_id, None)

    def live_manifest(self, job_id: str, now: float) -> JobManifest | None:
        manifest = self.manifest(job_id)
        return manifest if manifest is not None and manifest.expires > now else None

    def snapshot(self, job_id: str, now: float) -> JobSnapshot | None:
        manifest = self.live_manifest(job_id, now)
        if manifest is None:
            return None
        base = self._job_dir(job_id)
        outputs = {e.name: (st.st_size, st.st_mtime) for e, st in _entries(base / "outputs")}
        errors: dict[ItemId, ItemError] = {}
        for entry, _ in _entries(base / "errors"):
            item = ItemId.parse(entry.name)
            if item is None:
                continue
            try:
                errors[item] = msgspec.json.decode(Path(entry.path).read_bytes(), type=ItemError)
            except (OSError, msgspec.DecodeError):
                continue
        decoded = {item for e, _ in _entries(base / "decoded") if (item := ItemId.parse(e.name)) is not None}
        claims = {
            item: view
            for name, view in current_leases(self.leases_dir(job_id)).items()
            if (item := ItemId.parse(name)) is not None
        }
        finished = (base / "finished").exists()
        scores: dict[str, float] = {}
        for entry, _ in _entries(base / "scores"):
            try:
                scores[entry.name] = float(Path(entry.path).read_text())
            except (OSError, ValueError):
                continue
        return JobSnapshot(manifest, outputs, errors, decoded, claims, finished, scores)

    def progress(self, job_id: str, now: float) -> JobProgress | None:
        snap = self.snapshot(job_id, now)
        return None if snap is None else job_progress(snap)

    def exists(self, job_id: str) -> bool:
        """The job is still there (not deleted, whatever its expiry)."""
        return self._job_dir(job_id).is_dir()

    def has_output(self, job_id: str, name: str) -> bool:
        return (self._job_dir(job_id) / "outputs" / name).exists()

    def output_file(self, job_id: str, name: str, now: float) -> tuple[Path, str] | None:
        """The file of a finished output, only if `name` is one of this job's outputs."""
        manifest = self.live_manifest(job_id, now)
        item = manifest.output(name) if manifest is not None else None
        if item is None:
            return None
        path = self._job_dir(job_id) / "outputs" / item.name
        return (path, item.format) if path.is_file() else None

    def finished_outputs(self, job_id: str, now: float) -> list[tuple[str, Path]]:
        manifest = self.live_manifest(job_id, now)
        if manifest is None:
            return []
        folder = self._job_dir(job_id) / "outputs"
        return [(o.name, folder / o.name) for o in manifest.outputs if (folder / o.name).is_file()]

    # --- writing results -----------------------------------------------------------------------
    def record_error(self, job_id: str, item: ItemId, error: ItemError) -> None:
        folder = self._job_dir(job_id) / "errors"
        if folder.is_dir():
            atomic_write(str(folder / str(item)), msgspec.json.encode(error))

    def record_score(self, job_id: str, name: str, score: float) -> None:
        atomic_write(str(self._job_dir(job_id) / "scores" / name), repr(score).encode())

    def mark_decoded(self, job_id: str, item: ItemId) -> None:
        atomic_write(str(self._job_dir(job_id) / "decoded" / str(item)), b"")

    def publish(self, job_id: str, temp: str, name: str) -> bool:
        """Move a finished output into place, unless it is already there (never made twice)."""
        final = self._job_dir(job_id) / "outputs" / name
        try:
            if final.exists():
                os.unlink(temp)
                return False
            os.rename(temp, final)  # same directory: atomic, readers see all of it or nothing
            return True
        except FileNotFoundError:  # the job was removed meanwhile
            return False

    def mark_finished(self, job_id: str) -> bool:
        """True for exactly one replica: the one that records the job's completion."""
        try:
            fd = os.open(self._job_dir(job_id) / "finished", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except (FileExistsError, FileNotFoundError):
            return False
        os.close(fd)
        shutil.rmtree(self._job_dir(job_id) / "rasters", ignore_errors=True)  # only outputs are kept
        return True

    # --- housekeeping --------------------------------------------------------------------------
    def sweep(self, now: float) -> int:
        """Remove expired jobs and leftovers of interrupted creations and removals."""
        removed = 0
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.name.startswith(_DELETED):
                shutil.rmtree(entry.path, ignore_errors=True)
            elif entry.name.startswith(_INCOMING):
                try:
                    if now - entry.stat().st_mtime > _ABANDONED_INCOMING_SECONDS:
                        shutil.rmtree(entry.path, ignore_errors=True)
                except FileNotFoundError:
                    pass
            elif valid_job_id(entry.name):
                manifest = self.manifest(entry.name)
                if manifest is not None and manifest.expires <= now and self.remove(entry.name):
                    removed += 1
        return removed

    def bytes_stored(self) -> int:
        return _tree_bytes(str(self.root))

    def bytes_beside_jobs(self) -> int:
        """Bytes under the root outside any job (stored sources may share it and MAX_STORAGE_BYTES)."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        return sum(
            _tree_bytes(e.path)
            for e in entries
            if not valid_job_id(e.name) and not e.name.startswith((_INCOMING, _DELETED))
        )


def _tree_bytes(top: str) -> int:
    """Bytes of every file under `top` (or of `top` itself, a file)."""
    total = 0
    if not os.path.isdir(top):
        try:
            return os.stat(top, follow_symlinks=False).st_size
        except FileNotFoundError:
            return 0
    stack = [top]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
    return total


def _entries(folder: Path) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name.startswith((".", TEMP_PREFIX)):
            continue
        try:
            yield entry, entry.stat()
        except FileNotFoundError:
            continue
