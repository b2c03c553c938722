"""A grid's request and layout: what to make (widths x qualities x formats) and, from the
upload's header, every output's size, the decode group it is made from and the raster file that
group writes for it. Pure: no I/O, no pool. A batch and a job lay out the same way."""

from __future__ import annotations

import msgspec

from ..errors import UNPROCESSABLE
from ..imaging.errors import Allowed, ImageError, OptionError
from ..imaging.formats import OutputFormat
from ..imaging.groups import DecodeGroup, PlannedOutput, plan_outputs
from ..imaging.options import ConvertOptions
from ..imaging.tasks import Probed

__all__ = [
    "Grid",
    "GridLayout",
    "GridRequest",
    "check_grid_size",
    "check_output_pixels",
    "layout_grid",
    "output_name",
    "raster_name",
]


class Grid(msgspec.Struct, frozen=True):
    """What to make: every width x quality x format."""

    widths: tuple[int | None, ...]
    qualities: tuple[int | None, ...]
    formats: tuple[OutputFormat, ...]

    @property
    def count(self) -> int:
        return len(self.widths) * len(self.qualities) * len(self.formats)


class GridRequest(msgspec.Struct, frozen=True):
    """A validated batch or job: the options every output shares and the grid to make."""

    options: ConvertOptions
    grid: Grid


def check_grid_size(grid: Grid, limit: int) -> None:
    if grid.count > limit:
        raise OptionError(
            "widths",
            f"at most {limit} outputs (widths x qualities x formats)",
            f"{len(grid.widths)} x {len(grid.qualities)} x {len(grid.formats)} = {grid.count}",
            Allowed("limit", maximum=limit, unit="outputs"),
        )


def check_output_pixels(layout: GridLayout, limit: int, what: str, setting: str) -> None:
    """A grid's outputs summed (MAX_BATCH_OUTPUT_PIXELS, MAX_JOB_OUTPUT_PIXELS), refused from the
    layout before any decode."""
    total = sum(o.pixels for o in layout.outputs)
    if limit and total > limit:
        raise ImageError(
            UNPROCESSABLE,
            f"The {what}'s outputs add up to {total} pixels ({len(layout.outputs)} outputs), over the limit of "
            f"{limit} pixels ({setting}); ask for fewer or smaller outputs",
            "widths",
        )


def raster_name(group: int, width: int | None) -> str:
    """The file a decode group writes one scaled raster to (a job's rasters/ keeps these names)."""
    return f"g{group}-{'orig' if width is None else width}.v"


class GridLayout(msgspec.Struct, frozen=True):
    probed: Probed
    groups: tuple[DecodeGroup, ...]
    outputs: tuple[PlannedOutput, ...]

    def rasters(self, group: int) -> tuple[tuple[int | None, str], ...]:
        """(requested width, raster file name) of every raster the group writes: only the widths
        some output is made from (a width whose size repeats another's is not)."""
        widths = dict.fromkeys(o.requested_width for o in self.outputs if o.group == group)
        return tuple((w, raster_name(group, w)) for w in widths)

    def outputs_of(self, group: int) -> tuple[PlannedOutput, ...]:
        return tuple(o for o in self.outputs if o.group == group)


def layout_grid(probed: Probed, request: GridRequest, max_groups: int) -> GridLayout:
    grid = request.grid
    groups, outputs = plan_outputs(
        probed.width,
        probed.height,
        probed.input_type,
        request.options,
        grid.widths,
        grid.qualities,
        grid.formats,
        max_groups,
    )
    return GridLayout(probed, groups, outputs)


def output_name(stem: str, width: int, height: int, quality: int | None, fmt: OutputFormat) -> str:
    """An output's file name (batch ZIP entries, job outputs, a conversion's download)."""
    q = f"_q{quality}" if quality is not None else ""
    return f"{stem}_{width}x{height}{q}.{fmt.extension}"
