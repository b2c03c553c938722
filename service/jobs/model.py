"""What a job is on disk: the manifest, written once, and an item's recorded failure; and what a
submission brings.

The manifest is immutable after submission: everything that changes (outputs done, errors,
claims) is a file of its own, so no two replicas ever rewrite the same file.
"""

from __future__ import annotations

import msgspec

from ..grid.layout import GridRequest
from ..imaging.options import ConvertOptions

__all__ = ["MANIFEST_VERSION", "DecodeItem", "ItemError", "JobManifest", "JobOriginal", "JobSubmission", "OutputItem"]

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
    max_bytes: int = 0  # its reserved upper bound (quota.py): an encode over it fails; 0: not recorded


class JobManifest(msgspec.Struct, frozen=True):
    id: str
    created: float  # Unix time on the submitting replica (only ever compared with the TTL)
    expires: float
    options: ConvertOptions
    original: JobOriginal
    decodes: tuple[DecodeItem, ...]
    outputs: tuple[OutputItem, ...]
    version: int = MANIFEST_VERSION
    reserved_bytes: int = 0  # storage the plan may use at most (quota.py); 0: not recorded

    def output(self, name: str) -> OutputItem | None:
        for item in self.outputs:
            if item.name == name:
                return item
        return None


class ItemError(msgspec.Struct, frozen=True):
    code: str
    message: str


class JobSubmission(msgspec.Struct, frozen=True):
    """A new job as the HTTP layer hands it over: the upload, its name's stem, the parsed grid."""

    data: bytes
    stem: str
    request: GridRequest
