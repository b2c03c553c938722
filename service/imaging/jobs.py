"""The messages that cross the process boundary between the server and its workers.

Plain msgspec Structs (cheap to pickle, typed) and no pyvips import, so the server process can
build jobs and read results without loading libvips.
"""

from __future__ import annotations

import msgspec

from ..transfer import Blob
from .options import ConvertOptions


class Limits(msgspec.Struct, frozen=True):
    max_input_pixels: int = 50_000_000
    max_output_pixels: int = 50_000_000


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


class LibvipsInfo(msgspec.Struct, frozen=True):
    version: str
    missing_savers: tuple[str, ...]
    mozjpeg: bool  # trellis quantisation really changes the output
    concurrency: int
    pid: int


class ConvertJob(msgspec.Struct, frozen=True):
    data: bytes  # empty when the upload travels in shared memory (blob)
    options: ConvertOptions
    limits: Limits
    deadline: float  # time.time() after which the job must not start
    blob: Blob | None = None


class PrepareJob(msgspec.Struct, frozen=True):
    """Batch, stage one: decode once (sized for the largest width), then scale down in the same
    worker to every other width asked, handing back one raster per distinct size."""

    data: bytes
    options: ConvertOptions  # its width is the largest asked
    widths: tuple[int | None, ...]
    limits: Limits
    deadline: float


class Raster(msgspec.Struct, frozen=True):
    """Decoded pixels crossing the process boundary (only as many as the output needs)."""

    pixels: bytes
    width: int
    height: int
    bands: int
    band_format: str  # libvips band format: uchar for 8-bit, ushort for 16-bit PNG/TIFF
    interpretation: str


class Prepared(msgspec.Struct, frozen=True):
    rasters: dict[int, Raster]  # by requested width; -1 stands for "no width asked"
    input_type: str
    input_width: int
    input_height: int
    has_alpha: bool
    decode_seconds: float


class EncodeJob(msgspec.Struct, frozen=True):
    """Batch, stage two: encode one output from a raster already at its size."""

    raster: Raster
    format: str
    options: ConvertOptions
    deadline: float


class Encoded(msgspec.Struct, frozen=True):
    data: bytes
    width: int
    height: int
    format: str
    quality: int | None
    encode_seconds: float
    score: float | None = None
    attempts: int = 1
