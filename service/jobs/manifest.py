"""From a validated grid request and the upload's layout to a job manifest: every output named
and sized, every decode group and the raster files it writes, and the storage it may use (its
plan's bounds, quota.py), before any pixel is decoded."""

from __future__ import annotations

from ..grid.layout import GridLayout, GridRequest, output_name
from .model import DecodeItem, JobManifest, JobOriginal, OutputItem
from .quota import plan_job

__all__ = ["build_manifest"]


def build_manifest(
    job_id: str, created: float, ttl: float, request: GridRequest, layout: GridLayout, stem: str, upload_bytes: int
) -> JobManifest:
    probed = layout.probed
    plan = plan_job(layout, request.options, upload_bytes)
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
            bound,
        )
        for o, bound in zip(layout.outputs, plan.outputs, strict=True)
    )
    decodes = tuple(DecodeItem(group.top, layout.rasters(index)) for index, group in enumerate(layout.groups))
    original = JobOriginal(probed.width, probed.height, probed.input_type, upload_bytes, stem)
    return JobManifest(
        job_id, created, created + ttl, request.options, original, decodes, outputs, reserved_bytes=plan.total
    )
