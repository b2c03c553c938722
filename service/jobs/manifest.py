"""From a validated grid request and the upload's layout to a job manifest: every output named
and sized, every decode group and the raster files it writes, before any pixel is decoded."""

from __future__ import annotations

from ..grid.layout import GridLayout, GridRequest, output_name
from .model import DecodeItem, JobManifest, JobOriginal, OutputItem

__all__ = ["build_manifest"]


def build_manifest(
    job_id: str, created: float, ttl: float, request: GridRequest, layout: GridLayout, stem: str, upload_bytes: int
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
            dict(layout.rasters(o.group))[o.requested_width],
            o.group,
        )
        for o in layout.outputs
    )
    decodes = tuple(DecodeItem(group.top, layout.rasters(index)) for index, group in enumerate(layout.groups))
    original = JobOriginal(probed.width, probed.height, probed.input_type, upload_bytes, stem)
    return JobManifest(job_id, created, created + ttl, request.options, original, decodes, outputs)
