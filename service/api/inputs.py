"""Reading an upload and its options from a request: raw image body or multipart `image` field,
options from the query string and (for multipart) form fields."""

from __future__ import annotations

import re

import msgspec
from litestar import Request
from litestar.exceptions import ClientException

from ..imaging.errors import ErrorKind, ImageError, OptionError
from .multipart import read_form

_SAFE_STEM = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script
RAW_TYPES = ("image/", "application/octet-stream")


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


async def read_upload(request: Request) -> Upload:
    lists: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        _add(lists, key, value)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    stem = "image"
    if content_type == "multipart/form-data":
        boundary = request.content_type[1].get("boundary")
        if not boundary:
            raise ClientException("multipart boundary missing in Content-Type")
        form = await read_form(request.stream(), boundary.encode())
        data: bytes | None = None
        for part in form.files:
            if part.name != "image":
                raise OptionError(part.name, "files only in the field 'image'", part.filename)
            data = part.data
            stem = safe_stem(part.filename)
        for key, value in form.fields:
            _add(lists, key, value)
        if data is None:
            raise ImageError(ErrorKind.UNSUPPORTED_MEDIA, "The multipart form has no file in the field 'image'", "image")
    elif content_type.startswith(RAW_TYPES) or (not content_type and request.headers.get("content-length")):
        data = await request.body()
    else:
        raise ImageError(
            ErrorKind.UNSUPPORTED_MEDIA,
            f"Send the image as the request body with Content-Type image/*, or as the multipart field 'image' "
            f"(received Content-Type {content_type or 'none'!r})",
            "image",
        )
    if not data:
        raise ImageError(ErrorKind.UNSUPPORTED_MEDIA, "The request carried no image (empty body)", "image")
    fields = {key: values[-1] for key, values in lists.items()}
    return Upload(data, stem, fields, lists)


def list_values(upload: Upload, name: str) -> list[str]:
    """`widths=320,800` and `widths=320&widths=800` both give ['320', '800']."""
    values: list[str] = []
    for raw in upload.lists.get(name, []):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values
