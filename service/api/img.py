"""GET|HEAD /img/{signature}/{processing options}/{source}: imgproxy-compatible URLs.

The order is the security: the signature is checked over the raw path before anything is
decoded or read; then the options are parsed, the source is described (no content read), and a
conditional request is answered 304 from that alone. Only then are the bytes read and converted
through the engine, with the same admission, limits and deadline as /api/convert.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

from litestar import HttpMethod, Request, Response, route

from .. import metrics
from ..engine import Engine, searched
from ..errors import (
    BAD_REQUEST,
    INVALID_OPTION,
    INVALID_URL,
    INVALID_URL_OPTION,
    PAYLOAD_TOO_LARGE,
    SIGNATURE_INVALID,
    SOURCE_NOT_FOUND,
    SOURCE_TOO_LARGE,
    SOURCE_UNSUPPORTED,
    TOO_MANY_PARTS,
    URL_EXPIRED,
    Code,
)
from ..imaging.formats import OutputFormat
from ..imaging.tasks import Converted
from ..imgurl.errors import SignatureInvalid, UrlExpired
from ..imgurl.imgpath import ImgPath, parse_img_path, split_signature
from ..imgurl.resolve import (
    SourceFacts,
    canonical,
    needs_source_size,
    negotiated,
    to_convert_options,
    with_extension,
)
from ..imgurl.urloptions import URL_OPTIONS, UrlOptions, parse_url_options
from ..sources.errors import SourceError
from ..sources.loader import Loader, SourceInfo, SourceRef, Sources, parse_source_url, sniff_input_type
from ..sources.signature import Signer
from ..sources.stored import SourceStore
from .accept import accepted_formats
from .disconnect import unless_client_leaves
from .disposition import content_disposition
from .inputs import safe_stem
from .openapi import UPLOAD_ERRORS, route_doc

__all__ = ["DESCRIPTION", "IMG_ERRORS", "PREFIX", "ImgContext", "etag_for", "img", "not_modified"]

PREFIX = "/img"

# What /img can answer: the URL's and the source's refusals, then a conversion's, less the upload's
# own (the options and the image come in the URL, not in a form).
IMG_ERRORS: tuple[Code, ...] = (
    SIGNATURE_INVALID,
    INVALID_URL,
    INVALID_URL_OPTION,
    URL_EXPIRED,
    SOURCE_NOT_FOUND,
    SOURCE_UNSUPPORTED,
    SOURCE_TOO_LARGE,
    *(code for code in UPLOAD_ERRORS if code not in (INVALID_OPTION, BAD_REQUEST, PAYLOAD_TOO_LARGE, TOO_MANY_PARTS)),
)


def _options_list() -> str:
    return "; ".join(f"`{o.syntax}`" + (f" ({', '.join(o.short)})" if o.short else "") for o in URL_OPTIONS)


DESCRIPTION = (
    "Converts a source named in the URL, in imgproxy's URL format: "
    "`/img/{signature}/{option}/.../plain/{percent-encoded source}[@{extension}]` or "
    "`/img/{signature}/{option}/.../{base64url source}[.{extension}]`. The signature is "
    "HMAC-SHA256 with URL_SIGNING_KEY over URL_SIGNING_SALT + the path after it, URL-safe base64 "
    "without padding. Sources: `stored:///<sha256>` (POST /api/sources) and `local:///path` (under "
    "SOURCE_DIR). Answers the image with a strong ETag, Cache-Control and Last-Modified, and 304 to "
    "a matching If-None-Match or If-Modified-Since without converting. Options: " + _options_list() + "."
)


@dataclass(frozen=True)
class ImgContext:
    """What the /img route and POST /api/sources need besides the engine, built at start-up."""

    signer: Signer
    presets: dict[str, tuple[str, ...]]
    only_presets: bool
    sources: Sources
    store: SourceStore
    engine_version: str  # libvips' version: a new one may encode other bytes, so it is in the ETag
    max_age: int


def etag_for(info: SourceInfo, options: UrlOptions, choice: str | None, engine_version: str) -> str:
    digest = hashlib.sha256()
    for part in (info.identity.encode(), canonical(options), (choice or "").encode(), engine_version.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)  # length-prefixed: no two splits hash alike
    return f'"{digest.hexdigest()[:40]}"'


def not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, last_modified: float) -> bool:
    """RFC 9110: If-None-Match decides when present (weak comparison), else If-Modified-Since."""
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(last_modified) <= since
    return False


def _raw_path(request: Request[Any, Any, Any]) -> str:
    raw = request.scope.get("raw_path")
    # Bytes as sent, round-tripped exactly into the signed text (sign() encodes it back the same way).
    path = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) and raw else request.scope["path"]
    return path.removeprefix(PREFIX)


def _filename(options: UrlOptions, source: str, fmt: OutputFormat) -> str:
    stem = safe_stem(options.filename or source.rsplit("/", 1)[-1])
    return f"{stem}.{fmt.extension}"


def _checked_request(context: ImgContext, raw_path: str) -> tuple[ImgPath, UrlOptions]:
    """The signature over the path as sent, then (and only then) the path and its options decoded."""
    signature, signed = split_signature(raw_path)
    if not context.signer.verify(signature, signed):
        raise SignatureInvalid(context.signer.allow_unsigned)
    parsed = parse_img_path(signed, only_presets=context.only_presets)
    options = parse_url_options(parsed.options, context.presets, only_presets=context.only_presets)
    options = with_extension(options, parsed.extension)
    if options.expires is not None and options.expires < time.time():
        raise UrlExpired(options.expires)
    return parsed, options


async def _stat(loader: Loader, ref: SourceRef) -> SourceInfo:
    try:
        return await loader.stat(ref.location)
    except SourceError as exc:
        metrics.record_source(ref.scheme, exc.code.name)
        raise


async def _read(loader: Loader, ref: SourceRef, info: SourceInfo) -> bytes:
    started = time.perf_counter()
    try:
        data = await loader.read(ref.location, info)
    except SourceError as exc:
        metrics.record_source(ref.scheme, exc.code.name, time.perf_counter() - started)
        raise
    metrics.record_source(ref.scheme, "ok", time.perf_counter() - started, len(data))
    return data


async def _facts(engine: Engine, data: bytes, info: SourceInfo, options: UrlOptions) -> SourceFacts:
    """What the options need to know of the source: its type, and its size only when they need it
    (then from the loader, or a header probe on the pool)."""
    facts = SourceFacts(info.input_type or sniff_input_type(data[:16]), info.width, info.height)
    if needs_source_size(options) and facts.width is None:
        async with engine.admission():
            probed = await engine.probe(data, engine.deadline_from_now())
        facts = SourceFacts(probed.input_type, probed.width, probed.height)
    return facts


def _cache_headers(context: ImgContext, info: SourceInfo, options: UrlOptions, choice: str | None) -> dict[str, str]:
    cache = f"public, max-age={context.max_age}" + (", immutable" if info.immutable else "")
    headers = {
        "ETag": etag_for(info, options, choice, context.engine_version),
        "Cache-Control": cache,
        "Last-Modified": formatdate(info.last_modified, usegmt=True),
    }
    if choice is not None:
        headers["Vary"] = "Accept"
    return headers


def _image_headers(result: Converted, options: UrlOptions, source: str, searched_for: bool) -> dict[str, str]:
    kind = "attachment" if options.attachment else "inline"
    headers = {
        "Content-Disposition": content_disposition(kind, _filename(options, source, OutputFormat(result.format))),
        "X-Image-Width": str(result.width),
        "X-Image-Height": str(result.height),
    }
    if result.quality is not None:
        headers["X-Quality"] = str(result.quality)
    if result.score is not None:
        headers["X-Quality-Score"] = f"{result.score:.4f}"
    if searched_for:
        headers["X-Encode-Attempts"] = str(result.attempts)
    return headers


@route(
    f"{PREFIX}/{{path:path}}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    summary="Convert a source named in a signed, imgproxy-compatible URL",
    description=DESCRIPTION,
    tags=["convert"],
    operation_id=lambda _handler, method, _path: "img" if method == HttpMethod.GET else "img_head",
    opt=route_doc(success="image", errors=IMG_ERRORS),
)
async def img(request: Request[Any, Any, Any], path: str) -> Response[bytes]:
    engine: Engine = request.app.state.engine
    context: ImgContext = request.app.state.img
    parsed, options = _checked_request(context, _raw_path(request))
    ref = parse_source_url(parsed.source)
    loader = context.sources.loader_for(ref)
    info = await _stat(loader, ref)
    accepted = accepted_formats(request.headers.get("accept"))
    headers = _cache_headers(context, info, options, negotiated(options, accepted))
    if not_modified(
        request.headers.get("if-none-match"),
        request.headers.get("if-modified-since"),
        headers["ETag"],
        info.last_modified,
    ):
        metrics.record_source(ref.scheme, "not_modified")
        return Response(b"", status_code=304, headers=headers)
    data = await _read(loader, ref, info)
    facts = await _facts(engine, data, info, options)
    convert_options = to_convert_options(options, facts, accepted, engine.settings.max_output_dimension)
    result = await unless_client_leaves(request, engine.convert(data, convert_options))
    headers |= _image_headers(result, options, parsed.source, searched(convert_options))
    mime = OutputFormat(result.format).mime
    if request.method == HttpMethod.HEAD:
        return Response(b"", media_type=mime, headers=headers | {"Content-Length": str(len(result.data))})
    return Response(result.data, media_type=mime, headers=headers)
