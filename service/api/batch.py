"""POST /api/batch: one upload, every width x quality (x format), as a streamed ZIP or JSON."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from ..engine import Engine
from ..grid.batches import Batch, BatchOutput
from ..imaging.formats import OutputFormat
from .disconnect import unless_client_leaves
from .disposition import content_disposition
from .gridparams import parse_batch_params
from .inputs import read_upload
from .zipstream import ZipStream

__all__ = ["DESCRIPTION", "BatchItem", "BatchManifest", "OriginalInfo", "batch"]

log = logging.getLogger("service.batch")

DESCRIPTION = (
    "Produces every combination of `widths` x `qualities` (x `formats`) from one upload; lists are "
    "comma separated or repeated. Decodes once and encodes in parallel across the worker pool. "
    "Answers a ZIP streamed as outputs finish (entries `{stem}_{w}x{h}_q{q}.{ext}`), or with "
    "`response=json` a manifest with each output as a base64 data URL."
)


class BatchItem(msgspec.Struct):
    name: str
    width: int
    height: int
    quality: int | None
    format: str
    bytes: int
    data_url: str
    requested_width: int | None = None
    score: float | None = None  # with score=true (or min_score): SSIM on luminance against the unencoded pixels


class OriginalInfo(msgspec.Struct):
    width: int
    height: int
    bytes: int
    format: str


class BatchManifest(msgspec.Struct):
    original: OriginalInfo
    outputs: list[BatchItem]


@post(
    "/api/batch",
    summary="Convert one image to many widths x qualities",
    description=DESCRIPTION,
    tags=["convert"],
    status_code=200,
)
async def batch(request: Request[Any, Any, Any]) -> Response[BatchManifest] | Stream:
    engine: Engine = request.app.state.engine
    upload = await read_upload(request)
    params = parse_batch_params(upload, engine.settings)
    work = Batch(engine, upload.data, params.grid, upload.stem)
    outputs = work.outputs()
    # Wait for the first output before answering: bad input, or a grid too large to finish in
    # time, then still gets a JSON 4xx. A client that leaves meanwhile withdraws the batch.
    first = await unless_client_leaves(request, anext(outputs))
    if params.response == "json":
        items = [first, *await unless_client_leaves(request, _rest(outputs))]
        assert work.layout is not None
        probed = work.layout.probed
        original = OriginalInfo(probed.width, probed.height, len(upload.data), probed.input_type)
        return Response(BatchManifest(original, [_item(out) for out in items]))
    return Stream(
        _zip(first, outputs),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition("attachment", f"{upload.stem}_batch.zip")},
    )


async def _rest(outputs: AsyncGenerator[BatchOutput, None]) -> list[BatchOutput]:
    return [out async for out in outputs]


def _item(out: BatchOutput) -> BatchItem:
    mime = OutputFormat(out.format).mime
    encoded = base64.b64encode(out.data).decode()
    return BatchItem(
        out.name,
        out.width,
        out.height,
        out.quality,
        out.format,
        len(out.data),
        f"data:{mime};base64,{encoded}",
        out.requested_width,
        out.score,
    )


async def _zip(first: BatchOutput, rest: AsyncGenerator[BatchOutput, None]) -> AsyncIterator[bytes]:
    archive = ZipStream()
    async with aclosing(rest):  # however the stream ends, the batch (and its ticket) ends with it
        try:
            yield archive.add(first.name, first.data)
            async for out in rest:
                yield archive.add(out.name, out.data)
        except Exception:
            # Headers are gone: never finish the archive (no central directory, no last chunk),
            # so every client sees a failed transfer instead of a ZIP that looks complete.
            log.exception("batch failed after streaming began; aborting the response")
            raise
        yield archive.finish()
