"""Reading an upload and its options from a request: raw image body or multipart `image` field,
options from the query string and (for multipart) form fields.

Multipart is parsed here, with the same parser Litestar uses (`multipart`), rather than through
`request.form()`: a text field that is not valid text in its charset, names an unknown charset,
or an image sent as a text field would otherwise surface as a UnicodeDecodeError (a 500). Here
each is a 400 naming the field. The file stays in memory (the body limit bounds it).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

from ..errors import INVALID_OPTION, TOO_MANY_PARTS, UNSUPPORTED_MEDIA, ServiceError
from ..imaging.errors import Allowed, ImageError, OptionError, echo

__all__ = [
    "IMAGE_FIELD",
    "MAX_PARTS",
    "RAW_TYPES",
    "TooManyParts",
    "Upload",
    "decode_field",
    "read_multipart",
    "read_upload",
    "safe_stem",
]


class TooManyParts(ServiceError):
    """A form past MAX_PARTS: refused as too large, with the limit in the message."""

    code = TOO_MANY_PARTS

    def __init__(self) -> None:
        super().__init__(f"The multipart form has more than {MAX_PARTS} parts", field=IMAGE_FIELD)


_SAFE_STEM = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script
RAW_TYPES = ("image/", "application/octet-stream")
MAX_PARTS = 1000  # form fields and files in one multipart body
IMAGE_FIELD = "image"


class Upload(msgspec.Struct, frozen=True):
    data: bytes
    stem: str
    fields: dict[str, str]  # query parameters and form fields, last value wins
    lists: dict[str, list[str]]  # every value of every parameter, for list options


def safe_stem(filename: str | None) -> str:
    """A filename stem safe for Content-Disposition and ZIP entries: letters, digits, . _ -, no paths, bounded."""
    if not filename:
        return "image"
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _SAFE_STEM.sub("_", stem).strip("._-")[:64]
    return stem or "image"


def _add(lists: dict[str, list[str]], key: str, value: str) -> None:
    lists.setdefault(key, []).append(value)


class _File(msgspec.Struct):
    filename: str
    data: bytes


def decode_field(name: str, raw: bytes, charset: str | None) -> str:
    """A multipart text field as text, or a 400 that says what is wrong with it."""
    encoding = charset or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImageError(
            INVALID_OPTION,
            f"The multipart field {echo(name)!r} names an unknown charset {echo(encoding)!r}; send text fields "
            "as UTF-8",
            echo(name),
        ) from None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        if name == IMAGE_FIELD:
            raise _image_as_text() from None
        raise ImageError(
            INVALID_OPTION,
            f"The multipart field {echo(name)!r} is not valid {encoding} text; send option values as UTF-8 text",
            echo(name),
        ) from None


def _image_as_text() -> ImageError:
    return ImageError(
        INVALID_OPTION,
        f"The field '{IMAGE_FIELD}' was sent as a text field; send it as a file (a part with a filename, "
        f"e.g. curl -F {IMAGE_FIELD}=@photo.jpg)",
        IMAGE_FIELD,
    )


async def read_multipart(request: Request[Any, Any, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, _File]]]:
    """Every text field (decoded) and every file part of a multipart body, in order."""
    content_type = request.headers.get("content-type") or ""
    boundary = _boundary(content_type)
    texts: list[tuple[str, str]] = []
    files: list[tuple[str, _File]] = []
    segment: MultipartSegment | None = None
    # A part's pieces are joined once at its end: one copy of an uploaded file, where growing a
    # bytearray and then taking bytes() of it made two (~0.3 ms of server CPU for 1.6 MB).
    pieces: list[bytes] = []
    try:
        with PushMultipartParser(boundary.encode("latin-1"), max_segment_count=MAX_PARTS) as parser:
            async for chunk in _with_end(request):
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment, pieces = part, []
                    elif part:
                        pieces.append(part)
                    elif segment is not None:  # end of this part
                        name = segment.name or ""
                        value = b"".join(pieces)
                        if segment.filename is not None:
                            files.append((name, _File(segment.filename, value)))
                        else:
                            texts.append((name, decode_field(name, value, segment.charset)))
                        segment, pieces = None, []
                if parser.closed:
                    break
    except ParserLimitReached:
        raise TooManyParts() from None
    except ParserError as exc:
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "malformed body"
        if "decode" in reason:
            reason += " (part headers must be UTF-8)"
        raise ClientException(f"Invalid multipart/form-data: {echo(reason)}") from None
    return texts, files


async def _with_end(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The body's chunks, then b"": the parser's end-of-input signal (so a cut body is an error)."""
    async for chunk in request.stream():
        if chunk:
            yield chunk
    yield b""


def _boundary(content_type: str) -> str:
    match = re.search(r'boundary=(?:"([^"]+)"|([^\s;]+))', content_type, re.IGNORECASE)
    if match is None:
        raise ClientException("multipart/form-data without a boundary parameter")
    boundary = match.group(1) or match.group(2)
    if not boundary.isascii():
        raise ClientException("The multipart boundary must be ASCII")
    return boundary


async def read_upload(request: Request[Any, Any, Any]) -> Upload:
    lists: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        _add(lists, key, value)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    stem = "image"
    data: bytes | None = None
    if content_type == "multipart/form-data":
        texts, files = await read_multipart(request)
        for key, file in files:
            if key != IMAGE_FIELD:
                only = Allowed("option", choices=(IMAGE_FIELD,))
                raise OptionError(key, f"files only in the field '{IMAGE_FIELD}'", file.filename, only)
            data = file.data
            stem = safe_stem(file.filename)
        for key, text in texts:
            if key == IMAGE_FIELD:
                raise _image_as_text()
            _add(lists, key, text)
        if data is None:
            raise ImageError(
                UNSUPPORTED_MEDIA, f"The multipart form has no file in the field '{IMAGE_FIELD}'", IMAGE_FIELD
            )
    elif content_type.startswith(RAW_TYPES) or (not content_type and request.headers.get("content-length")):
        data = await request.body()
    else:
        raise ImageError(
            UNSUPPORTED_MEDIA,
            f"Send the image as the request body with Content-Type image/*, or as the multipart field 'image' "
            f"(received Content-Type {content_type or 'none'!r})",
            "image",
        )
    if not data:
        raise ImageError(UNSUPPORTED_MEDIA, "The request carried no image (empty body)", "image")
    fields = {key: values[-1] for key, values in lists.items()}
    return Upload(data, stem, fields, lists)
