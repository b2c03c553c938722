"""A grid's request and layout: what to make (widths x qualities x formats) and, from the
upload's header, every output's size and the decode group it is made from. No I/O."""

from __future__ import annotations

import os

import msgspec

from ..imaging.errors import OptionError
from ..imaging.formats import OutputFormat
from ..imaging.groups import DecodeGroup, PlannedOutput, plan_outputs
from ..imaging.options import ConvertOptions
from ..imaging.tasks import Probed


class BatchPlan(msgspec.Struct, frozen=True):
    widths: tuple[int | None, ...]
    qualities: tuple[int | None, ...]
    formats: tuple[OutputFormat, ...]

    @property
    def count(self) -> int:
        return len(self.widths) * len(self.qualities) * len(self.formats)


class BatchRequest(msgspec.Struct, frozen=True):
    """A validated batch (or job): the options every output shares and the grid to make."""

    options: ConvertOptions
    plan: BatchPlan


def check_batch_size(plan: BatchPlan, limit: int) -> None:
    if plan.count > limit:
        raise OptionError(
            "widths",
            f"at most {limit} outputs (widths x qualities x formats)",
            f"{len(plan.widths)} x {len(plan.qualities)} x {len(plan.formats)} = {plan.count}",
        )


class BatchLayout(msgspec.Struct, frozen=True):
    probed: Probed
    groups: tuple[DecodeGroup, ...]
    outputs: tuple[PlannedOutput, ...]


def layout_batch(probed: Probed, request: BatchRequest, max_groups: int) -> BatchLayout:
    plan = request.plan
    groups, outputs = plan_outputs(
        probed.width,
        probed.height,
        probed.input_type,
        request.options,
        plan.widths,
        plan.qualities,
        plan.formats,
        max_groups,
    )
    return BatchLayout(probed, groups, outputs)


def _used_widths(layout: BatchLayout, group: int) -> tuple[int | None, ...]:
    """The group's widths some output is made from (a width whose size repeats another's is not)."""
    return tuple(dict.fromkeys(o.requested_width for o in layout.outputs if o.group == group))


def _raster_path(scratch: str, group: int, width: int | None) -> str:
    return os.path.join(scratch, f"g{group}-{'orig' if width is None else width}.v")


def output_name(stem: str, width: int, height: int, quality: int | None, fmt: OutputFormat) -> str:
    q = f"_q{quality}" if quality is not None else ""
    return f"{stem}_{width}x{height}{q}.{fmt.extension}"
