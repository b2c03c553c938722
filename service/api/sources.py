"""POST /api/sources: keep an upload on the shared storage, to convert it many times by URL.

The upload is probed first (header and a small decode, on the pool like any conversion), so what
is stored is an image the service can convert; then stored by its SHA-256 (stored.py). The answer's
`source` is what /img URLs name.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Request, post

from ..engine import Engine
from ..errors import INVALID_OPTION, MAX_BYTES_UNREACHABLE, MIN_SCORE_UNREACHABLE, STORAGE_FULL, Code
from ..sources.stored import StoredSource
from .img import ImgContext
from .inputs import read_upload
from .openapi import UPLOAD_ERRORS, route_doc

__all__ = ["DESCRIPTION", "SOURCES_ERRORS", "SWEEP_INTERVAL_SECONDS", "store_source"]

SWEEP_INTERVAL_SECONDS = 60.0  # how often a replica removes expired sources, at most

# An upload's refusals and a probe's (no options are read, nothing is encoded), then full storage.
SOURCES_ERRORS: tuple[Code, ...] = (
    *(code for code in UPLOAD_ERRORS if code not in (INVALID_OPTION, MAX_BYTES_UNREACHABLE, MIN_SCORE_UNREACHABLE)),
    STORAGE_FULL,
)

DESCRIPTION = (
    "Stores one image (raw body with Content-Type image/*, or the multipart field `image`) for GET /img "
    "URLs, named by its SHA-256: the same bytes are stored once and their expiry (SOURCE_TTL_SECONDS) "
    "renewed. Answers `source` (stored:///<sha256>, the reference to put in a URL), its size, "
    "width/height and format. 507 when MAX_STORAGE_BYTES is reached."
)


@post(
    "/api/sources",
    summary="Store an image for GET /img URLs",
    description=DESCRIPTION,
    tags=["sources"],
    status_code=201,
    operation_id="store_source",
    opt=route_doc(upload=True, errors=SOURCES_ERRORS),
)
async def store_source(request: Request[Any, Any, Any]) -> StoredSource:
    engine: Engine = request.app.state.engine
    context: ImgContext = request.app.state.img
    upload = await read_upload(request)
    async with engine.admission():
        probed = await engine.probe(upload.data, engine.deadline_from_now(), validate=True)
    store, now = context.store, time.time()
    await asyncio.to_thread(store.sweep_if_due, now, SWEEP_INTERVAL_SECONDS)
    return await asyncio.to_thread(store.put, upload.data, probed.width, probed.height, probed.input_type, now)
