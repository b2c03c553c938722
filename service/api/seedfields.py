"""The original service's checkboxes that set several of our options at once (its "presets").

HTTP vocabulary of the seed routes, not image logic: read by the seed handlers and the OpenAPI
document of their form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["SEED_PRESETS", "SeedPreset"]


@dataclass(frozen=True)
class SeedPreset:
    """A checkbox of the original service that sets several of our options (JPEG only)."""

    name: str
    description: str
    values: Mapping[str, str]


SEED_PRESETS: tuple[SeedPreset, ...] = (
    SeedPreset(
        "mozjpeg",
        "JPEG: sharp's mozjpeg preset (trellis quantisation, overshoot deringing, optimised scans, quant table 3).",
        {"trellis_quant": "true", "overshoot_deringing": "true", "optimize_scans": "true", "quant_table": "3"},
    ),
)
