"""The one grid executor: a decode group or an encode becomes a task on the pool, and its metrics
are recorded here, whether it belongs to a batch or to a job item.

Decode groups and encodes meet through raster files, never through the server's memory: a decode
group writes one .v file per raster, an encode reads one. `run_grid` drives a whole layout over
one directory (a batch's scratch); the jobs runner drives the same `decode` and `encode` one item
at a time over its store's paths.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import msgspec

from .. import metrics
from ..engine import count_search, searched
from ..imaging.formats import OutputFormat
from ..imaging.gridwork import run_decode_group, run_encode_file
from ..imaging.groups import PlannedOutput, encode_seconds
from ..imaging.options import ConvertOptions
from ..imaging.tasks import DecodedGroup, DecodeGroupTask, Encoded, EncodeFileTask, Limits, RasterTarget
from ..pool import Lane, WorkerPool
from .layout import GridLayout

__all__ = ["GridExecutor", "encode_cost"]


def encode_cost(output: PlannedOutput, options: ConvertOptions) -> float | None:
    """The pool's estimate of an encode, in seconds of one worker; None when unknown up front
    (a max_bytes/min_score search makes several encodes)."""
    if searched(options):
        return None
    return encode_seconds(output) * (2 if options.score else 1)


class GridExecutor:
    """Runs grid work on `pool` in one lane, with the request's limits."""

    def __init__(self, pool: WorkerPool, limits: Limits, lane: Lane) -> None:
        self.pool = pool
        self.limits = limits
        self.lane = lane

    async def decode(
        self,
        input_path: str,
        options: ConvertOptions,
        top: int | None,
        targets: Sequence[RasterTarget],
        deadline: float,
    ) -> DecodedGroup:
        """Decode the input once at the group's largest width `top` and write every target raster."""
        task = DecodeGroupTask(
            input_path, msgspec.structs.replace(options, width=top), tuple(targets), self.limits, deadline
        )
        decoded: DecodedGroup = await self.pool.run(run_decode_group, task, deadline, lane=self.lane)
        metrics.DECODE_SECONDS.labels(decoded.input_type).observe(decoded.decode_seconds)
        return decoded

    async def encode(
        self,
        raster_path: str,
        options: ConvertOptions,
        quality: int | None,
        fmt: OutputFormat,
        input_type: str,
        deadline: float,
        *,
        output_dir: str | None = None,
        cost: float | None = None,
        max_bytes: int | None = None,
    ) -> Encoded:
        """Encode one output (at `quality`, as `fmt`) from its raster: the bytes come back, or with
        `output_dir` a temporary file there holds them (the caller publishes it). Over `max_bytes`
        the encode fails with storage_full."""
        opts = msgspec.structs.replace(options, quality=quality, format=fmt.value)
        task = EncodeFileTask(raster_path, fmt.value, opts, deadline, output_dir, max_bytes)
        with count_search(opts):
            encoded: Encoded = await self.pool.run(run_encode_file, task, deadline, lane=self.lane, cost=cost)
        metrics.record_conversion(input_type, encoded.format, 0, encoded.size, None, encoded.encode_seconds)
        metrics.record_search(opts.max_bytes, opts.min_score, encoded.format, encoded.attempts)
        return encoded

    async def run_grid(
        self, layout: GridLayout, options: ConvertOptions, input_path: str, directory: str, deadline: float
    ) -> AsyncGenerator[tuple[PlannedOutput, Encoded], None]:
        """Every output of `layout`, in completion order: all decode groups at once, each
        group's encodes as soon as its rasters are in `directory`. Closing the generator
        withdraws what has not started (a client that left)."""
        decodes: dict[asyncio.Future[Any], int] = {
            asyncio.ensure_future(
                self.decode(input_path, options, group.top, self._targets(layout, index, directory), deadline)
            ): index
            for index, group in enumerate(layout.groups)
        }
        encodes: dict[asyncio.Future[Any], PlannedOutput] = {}
        input_type = layout.probed.input_type
        try:
            while decodes or encodes:
                done, _ = await asyncio.wait([*decodes, *encodes], return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    if future in decodes:
                        index = decodes.pop(future)
                        future.result()  # a failed decode fails the grid
                        rasters = dict(layout.rasters(index))
                        for out in layout.outputs_of(index):
                            raster = os.path.join(directory, rasters[out.requested_width])
                            cost = encode_cost(out, options)
                            encode = self.encode(
                                raster, options, out.quality, out.format, input_type, deadline, cost=cost
                            )
                            encodes[asyncio.ensure_future(encode)] = out
                        continue
                    out = encodes.pop(future)
                    yield out, future.result()
        finally:
            for pending in [*decodes, *encodes]:
                pending.cancel()

    @staticmethod
    def _targets(layout: GridLayout, group: int, directory: str) -> tuple[RasterTarget, ...]:
        return tuple(RasterTarget(w, os.path.join(directory, name)) for w, name in layout.rasters(group))
