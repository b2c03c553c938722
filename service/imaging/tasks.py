"""The messages that cross the process boundary between the server and its workers.

Plain msgspec Structs (cheap to pickle, typed) and no pyvips import, so the server process can
build tasks and read results without loading libvips.
"""

from __future__ import annotations

import msgspec

from ..transfer import Blob
from .options import ConvertOptions

__all__ = [
    "ConvertTask",
    "Converted",
    "DecodeGroupTask",
    "DecodedGroup",
    "EncodeFileTask",
    "Encoded",
    "LibvipsInfo",
    "Limits",
    "ProbeTask",
    "Probed",
    "RasterTarget",
]


class Limits(msgspec.Struct, frozen=True):
    """The request limits a worker checks. No defaults here: they are settings (`Settings.limits`)."""

    max_input_pixels: int
    max_output_pixels: int
    max_batch_output_pixels: int  # sum over a batch's outputs
    max_input_dimension: int  # longest side: decoding costs per row too, not only per pixel
    max_input_aspect_ratio: int  # longer side / shorter side


class Converted(msgspec.Struct, frozen=True):
    data: bytes
    width: int
    height: int
    format: str
    input_type: str
    input_width: int
    input_height: int
    decode_seconds: float
    encode_seconds: float
    quality: int | None = None  # the encoder quality used (found by the search with max_bytes/min_score)
    score: float | None = None  # quality score, when asked for or searched for
    attempts: int = 1  # encodes made (more than one only when searching a target)
    blob: Blob | None = None  # where the output is when it came back through shared memory (data empty)


class LibvipsInfo(msgspec.Struct, frozen=True):
    version: str
    missing_savers: tuple[str, ...]
    mozjpeg: bool  # trellis quantisation really changes the output
    concurrency: int
    pid: int


class ConvertTask(msgspec.Struct, frozen=True):
    data: bytes  # empty when the upload travels in shared memory (blob)
    options: ConvertOptions
    limits: Limits
    deadline: float  # time.time() after which the task must not start
    blob: Blob | None = None
    out: Blob | None = None  # a file lent for a large output (transfer.give)


class Encoded(msgspec.Struct, frozen=True):
    """An encoded batch output (EncodeFileTask)."""

    data: bytes
    width: int
    height: int
    format: str
    quality: int | None
    encode_seconds: float
    written: str | None = None  # EncodeFileTask with output_dir: the temporary file holding `data` instead
    size: int = 0  # bytes of the output, wherever it is
    score: float | None = None  # quality score against the raster, when the options ask for one
    attempts: int = 1  # encodes made (more than one when max_bytes or min_score searched)


class ProbeTask(msgspec.Struct, frozen=True):
    """Read an upload's header only: what a job needs to plan every output before any decode."""

    data: bytes
    limits: Limits
    deadline: float
    validate: bool = False  # also check the file is whole (pipeline.check_whole, no decode): a cut upload fails now


class Probed(msgspec.Struct, frozen=True):
    input_type: str
    width: int  # upright (EXIF orientation applied)
    height: int
    has_alpha: bool
    metadata_bytes: int = 0  # from the header: what each raster and output may carry besides pixels


class RasterTarget(msgspec.Struct, frozen=True):
    """One scaled raster a decode group writes: for the requested width, to a .v file."""

    width: int | None  # requested width; None = no width asked
    path: str


class DecodeGroupTask(msgspec.Struct, frozen=True):
    """Decode the input file once at the group's largest width and write a raster file per
    target, so the server never holds pixels and any process that sees the files can encode."""

    input_path: str
    options: ConvertOptions  # its width is the group's largest
    targets: tuple[RasterTarget, ...]
    limits: Limits
    deadline: float


class DecodedGroup(msgspec.Struct, frozen=True):
    input_type: str
    decode_seconds: float


class EncodeFileTask(msgspec.Struct, frozen=True):
    """Encode one output from a raster file. With `output_dir` the worker writes the output to a
    temporary file there (the caller publishes it by rename); without it the bytes come back."""

    raster_path: str
    format: str
    options: ConvertOptions
    deadline: float
    output_dir: str | None = None
    max_bytes: int | None = None  # the output's reserved bound (a job's): over it the encode fails, unstored
