"""From a validated batch request and the upload's header to a job manifest: every output named
and sized, every decode group and the raster files it writes, before any pixel is decoded."""

from __future__ import annotations

from ..grid.layout import BatchLayout, BatchRequest, output_name
from .model import DecodeItem, JobManifest, JobOriginal, OutputItem


def raster_name(group: int, width: int | None) -> str:
    return f"g{group}-{'orig' if width is None else width}.v"


def build_manifest(
    job_id: str, created: float, ttl: float, request: BatchRequest, layout: BatchLayout, stem: str, upload_bytes: int
) -> JobManifest:
    probed = layout.probed
    outputs = tuple(
        OutputItem(
            output_name(stem, o.width, o.height, o.quality, o.format),
            o.requested_width,
            o.width,
            o.height,
            o.quality,
            o.format.value,
            raster_name(o.group, o.requested_width),
            o.group,
        )
        for o in layout.outputs
    )
    decodes = tuple(
        DecodeItem(
            group.top,
            tuple(
                (w, raster_name(index, w))
                for w in dict.fromkeys(o.requested_width for o in layout.outputs if o.group == index)
            ),
        )
        for index, group in enumerate(layout.groups)
    )
    original = JobOriginal(probed.width, probed.height, probed.input_type, upload_bytes, stem)
    return JobManifest(job_id, created, created + ttl, request.options, original, decodes, outputs)
