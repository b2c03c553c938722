"""What a job is on disk (the manifest, written once) and what clients see (the status document).

The manifest is immutable after submission: everything that changes (outputs done, errors,
claims) is a file of its own, so no two replicas ever rewrite the same file.
"""

from __future__ import annotations

import msgspec

from ..imaging.options import ConvertOptions

MANIFEST_VERSION = 1


class JobOriginal(msgspec.Struct, frozen=True):
    width: int
    height: int
    format: str
    bytes: int
    name: str


class DecodeItem(msgspec.Struct, frozen=True):
    """Decode the input once at `top` and write one raster file per entry of `rasters`."""

    top: int | None
    rasters: tuple[tuple[int | None, str], ...]  # (requested width, raster file name)

    def raster_names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.rasters)


class OutputItem(msgspec.Struct, frozen=True):
    name: str  # also the file name under outputs/: made here from safe parts, never from a request
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    raster: str  # raster file this output is encoded from
    decode: int  # index of the decode item that writes that raster


class JobManifest(msgspec.Struct, frozen=True):
    id: str
    created: float  # Unix time on the submitting replica (only ever compared with the TTL)
    expires: float
    options: ConvertOptions
    original: JobOriginal
    decodes: tuple[DecodeItem, ...]
    outputs: tuple[OutputItem, ...]
    version: int = MANIFEST_VERSION

    def output(self, name: str) -> OutputItem | None:
        for item in self.outputs:
            if item.name == name:
                return item
        return None


class ItemError(msgspec.Struct, frozen=True):
    code: str
    message: str


class OutputStatus(msgspec.Struct):
    name: str
    requested_width: int | None
    width: int
    height: int
    quality: int | None
    format: str
    state: str  # pending | running | done | failed
    bytes: int | None
    url: str
    score: float | None = None
    error: str | None = None


class JobStatus(msgspec.Struct):
    id: str
    status: str  # queued | running | done | failed | cancelled
    total: int
    done: int
    failed: int
    created: str
    updated: str
    expires: str
    original: JobOriginal
    outputs: list[OutputStatus]
    archive_url: str
