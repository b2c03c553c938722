"""The output formats we encode and the input formats we are willing to decode."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ALLOWED_LOADERS", "REQUIRED_SAVERS", "OutputFormat", "sniff_refused_type"]


class OutputFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    TIFF = "tiff"

    @property
    def mime(self) -> str:
        return _MIME[self]

    @property
    def extension(self) -> str:
        return _EXTENSION[self]

    @property
    def supports_alpha(self) -> bool:
        return self is not OutputFormat.JPEG


_MIME = {
    OutputFormat.JPEG: "image/jpeg",
    OutputFormat.PNG: "image/png",
    OutputFormat.WEBP: "image/webp",
    OutputFormat.AVIF: "image/avif",
    OutputFormat.TIFF: "image/tiff",
}
_EXTENSION = {
    OutputFormat.JPEG: "jpg",
    OutputFormat.PNG: "png",
    OutputFormat.WEBP: "webp",
    OutputFormat.AVIF: "avif",
    OutputFormat.TIFF: "tiff",
}

# libvips loader class name -> short input type name. Every other loader libvips has (SVG, PDF,
# matrix, CSV, raw vips, FITS, ...) is blocked in the workers: attack surface we do not need.
ALLOWED_LOADERS: dict[str, str] = {
    "VipsForeignLoadJpeg": "jpeg",
    "VipsForeignLoadPng": "png",
    "VipsForeignLoadWebp": "webp",
    "VipsForeignLoadHeif": "heif",
    "VipsForeignLoadTiff": "tiff",
    "VipsForeignLoadGif": "gif",  # libvips before 8.11
    "VipsForeignLoadNsgif": "gif",  # libvips 8.11+ (libnsgif); only the first frame is converted
}

# The savers each output format needs; start-up fails if libvips lacks one.
REQUIRED_SAVERS: dict[OutputFormat, str] = {
    OutputFormat.JPEG: "jpegsave_buffer",
    OutputFormat.PNG: "pngsave_buffer",
    OutputFormat.WEBP: "webpsave_buffer",
    OutputFormat.AVIF: "heifsave_buffer",
    OutputFormat.TIFF: "tiffsave_buffer",
}

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "PSD"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"P1", "PBM/PGM/PPM"),
    (b"P2", "PBM/PGM/PPM"),
    (b"P3", "PBM/PGM/PPM"),
    (b"P4", "PBM/PGM/PPM"),
    (b"P5", "PBM/PGM/PPM"),
    (b"P6", "PBM/PGM/PPM"),
    (b"SIMPLE  =", "FITS"),
    (b"PK\x03\x04", "ZIP archive"),
)


def sniff_refused_type(data: bytes) -> str | None:
    """Name a well-known non-accepted type from its magic bytes, for a helpful error message."""
    head = data[:64].lstrip()
    for magic, name in _SIGNATURES:
        if head.startswith(magic):
            return name
    if b"<svg" in data[:1024]:
        return "SVG"
    return None
