"""Job storage reserved from the plan, before any pixel is decoded, and the ledger that holds the
reservations of every job so MAX_STORAGE_BYTES and MAX_ACTIVE_JOBS hold however many submissions
arrive at once.

The plan's bytes are upper bounds: the upload, each raster (width x height x bands, as libvips
writes a .v file, plus the metadata the header declares) and each output (the raster's
samples times the worst case of its format, measured on noise at the highest quality, plus
metadata). An encode over its output's bound is failed with `storage_full` by the worker
(imaging/gridwork.py), so a running job never writes more than it reserved. The archive is
streamed from the outputs, never stored, so it reserves nothing.

The ledger: `check_and_reserve` is synchronous (no await between the check and the reservation),
so concurrent submissions on this replica each see the others' reservations. A reservation is
replaced by the job's own figure once the scan sees the job on storage (its plan while it runs,
its stored bytes once settled) and given back if the submission fails.
"""

from __future__ import annotations

import msgspec

from ..grid.layout import GridLayout
from ..imaging.formats import OutputFormat
from ..imaging.options import ConvertOptions
from .progress import JobSnapshot

__all__ = ["JobPlan", "Ledger", "plan_job", "stored_bytes"]

# Encoded bytes per raster sample at worst (gaussian noise, sigma 120, highest quality, measured
# with pyvips 512x512: JPEG q100 4:4:4 1.37, PNG level 0 1.003, WebP lossless 0.60 / q100 0.39, AVIF
# lossless 1.50 / q100 1.24, TIFF lzw+predictor 0.99 and jpeg q100 as JPEG); rounded up, as a bound.
_WORST_BYTES_PER_SAMPLE = {
    OutputFormat.JPEG: 1.5,
    OutputFormat.PNG: 1.05,
    OutputFormat.WEBP: 1.05,
    OutputFormat.AVIF: 2.0,
    OutputFormat.TIFF: 1.5,
}
_FILE_HEADROOM = 64 * 1024  # container headers, a palette, chunk framing
_JOB_FILES = 64 * 1024  # job.json, markers, leases, scores


class JobPlan(msgspec.Struct, frozen=True):
    """The bytes a job may write, by file: what its manifest records and the ledger reserves."""

    rasters: dict[str, int]  # raster file name -> its bound
    outputs: tuple[int, ...]  # each output's bound, in layout order
    total: int  # upload + rasters + outputs + the job's own small files


def _bands(has_alpha: bool, options: ConvertOptions) -> int:
    """Samples per pixel of a raster: sRGB, plus alpha from the source or from contain's padding."""
    return 4 if has_alpha or options.fit == "contain" else 3


def plan_job(layout: GridLayout, options: ConvertOptions, upload_bytes: int) -> JobPlan:
    bands = _bands(layout.probed.has_alpha, options)
    metadata = layout.probed.metadata_bytes  # EXIF, ICC, XMP a file may keep, as the header declares them
    rasters: dict[str, int] = {}
    for index in range(len(layout.groups)):
        names = dict(layout.rasters(index))
        for out in layout.outputs_of(index):
            name = names[out.requested_width]
            size = out.width * out.height * bands + _FILE_HEADROOM + metadata
            rasters[name] = max(rasters.get(name, 0), size)
    outputs = tuple(
        int(o.width * o.height * (bands if o.format.supports_alpha else 3) * _WORST_BYTES_PER_SAMPLE[o.format])
        + _FILE_HEADROOM
        + metadata
        for o in layout.outputs
    )
    return JobPlan(rasters, outputs, upload_bytes + sum(rasters.values()) + sum(outputs) + _JOB_FILES)


def stored_bytes(snap: JobSnapshot) -> int:
    """What a job keeps once settled (its rasters are removed): the upload, its outputs, its files."""
    return snap.manifest.original.bytes + sum(size for size, _ in snap.outputs.values()) + _JOB_FILES


class Ledger:
    """Active jobs and committed storage as this replica knows them: what the last scan of storage
    found (`observe`) plus the reservations of submissions made here since. Synchronous on purpose."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._seen: dict[str, tuple[bool, int]] = {}  # job id -> (unfinished, committed bytes)
        self._reserved: dict[str, int] = {}  # submissions here not yet seen by a scan
        self.beside = 0  # bytes in the storage directory outside jobs (stored sources), as last swept

    @property
    def active(self) -> int:
        return sum(1 for unfinished, _ in self._seen.values() if unfinished) + len(self._reserved)

    @property
    def committed(self) -> int:
        return self.beside + sum(b for _, b in self._seen.values()) + sum(self._reserved.values())

    def fits(self, job_id: str, total: int) -> bool:
        """Would the job, reserving `total` (instead of what it holds now), fit the storage limit?"""
        return self.committed - self._reserved.get(job_id, 0) + total <= self.max_bytes

    def reserve(self, job_id: str, total: int) -> None:
        self._reserved[job_id] = total

    def release(self, job_id: str) -> None:
        """A submission that failed, or a job removed before any scan saw it."""
        self._reserved.pop(job_id, None)

    def observe(self, seen: dict[str, tuple[bool, int]]) -> None:
        """A scan's figures replace the reservations of the jobs it saw (a submission still
        being stored keeps its own until a later scan finds it)."""
        self._seen = seen
        for job_id in [j for j in self._reserved if j in seen]:
            del self._reserved[job_id]
