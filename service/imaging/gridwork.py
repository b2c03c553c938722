"""Grid tasks that run in a worker (batch and job items) and meet through files, not through the server's memory.

probe: the header only (and, to validate, whether the file ends where its format says), so a job
can name and size every output before any decode and answer within a second.
decode group: decode once, scale to each width of the group (pipeline.scale_to_widths) and write
each raster as a libvips .v file (temporary name, then rename); encode: read a .v raster, encode,
and either hand the bytes back (/api/batch) or write them to a temporary file beside the output
(jobs: the runner publishes it by rename after checking it still holds the item's lease).
"""

from __future__ import annotations

import os
import time

from ..errors import STORAGE_FULL
from ..files import temp_path
from .errors import ImageError
from .formats import OutputFormat
from .tasks import DecodedGroup, DecodeGroupTask, Encoded, EncodeFileTask, Probed, ProbeTask
from .worker import check_deadline, ensure_ready

__all__ = ["run_decode_group", "run_encode_file", "run_probe"]


def run_probe(task: ProbeTask) -> Probed:
    check_deadline(task.deadline)
    ensure_ready()
    from .pipeline import check_whole, probe

    source = probe(task.data, task.limits)
    if task.validate:
        check_whole(task.data, source.input_type)
    return Probed(source.input_type, source.width, source.height, source.has_alpha, source.metadata_bytes)


def run_decode_group(task: DecodeGroupTask) -> DecodedGroup:
    check_deadline(task.deadline)
    ensure_ready()
    from .pipeline import decode, scale_to_widths

    with open(task.input_path, "rb") as f:
        data = f.read()
    started = time.perf_counter()
    decoded = decode(data, task.options, task.limits)
    paths = {target.width: target.path for target in task.targets}
    for width, image in scale_to_widths(decoded, task.options, tuple(paths)):
        path = paths[width]
        tmp = temp_path(os.path.dirname(path), ".v")  # vipssave picks the format from the suffix
        try:
            image.write_to_file(tmp)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return DecodedGroup(decoded.source.input_type, time.perf_counter() - started)


def run_encode_file(task: EncodeFileTask) -> Encoded:
    """Encode one raster file: with max_bytes/min_score the quality search (targets.encode_for)
    runs here, so a batch or task output honours them exactly as /api/convert does."""
    check_deadline(task.deadline)
    ensure_ready()
    import pyvips

    from .search import encode_for

    image = pyvips.Image.new_from_file(task.raster_path, access="sequential")
    started = time.perf_counter()
    out = encode_for(image, OutputFormat(task.format), task.options)
    seconds = time.perf_counter() - started
    data = out.data
    if task.max_bytes is not None and len(data) > task.max_bytes:
        raise ImageError(
            STORAGE_FULL,
            f"The encoded output is {len(data)} bytes, over the {task.max_bytes} bytes reserved for it in job "
            "storage (MAX_STORAGE_BYTES); it was not stored",
            "format",
        )
    if task.output_dir is None:
        return Encoded(
            data,
            image.width,
            image.height,
            task.format,
            out.quality,
            seconds,
            size=len(data),
            score=out.score,
            attempts=out.attempts,
        )
    tmp = temp_path(task.output_dir)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return Encoded(
        b"",
        image.width,
        image.height,
        task.format,
        out.quality,
        seconds,
        written=tmp,
        size=len(data),
        score=out.score,
        attempts=out.attempts,
    )
