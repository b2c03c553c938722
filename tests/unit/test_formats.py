"""The formats (service/imaging/formats.py): what each output format is called and can hold, the
loaders and savers it names exist in the libvips we run, and refused inputs are named."""

from __future__ import annotations

import pytest
import pyvips

from service.imaging.formats import ALLOWED_LOADERS, REQUIRED_SAVERS, OutputFormat, sniff_refused_type


def test_every_output_format_has_a_mime_type_an_extension_and_a_saver() -> None:
    table = {f: (f.mime, f.extension, f.supports_alpha) for f in OutputFormat}
    assert table == {
        OutputFormat.JPEG: ("image/jpeg", "jpg", False),
        OutputFormat.PNG: ("image/png", "png", True),
        OutputFormat.WEBP: ("image/webp", "webp", True),
        OutputFormat.AVIF: ("image/avif", "avif", True),
        OutputFormat.TIFF: ("image/tiff", "tiff", True),
    }
    assert set(REQUIRED_SAVERS) == set(OutputFormat)


def test_the_savers_are_real_libvips_operations() -> None:
    for saver in REQUIRED_SAVERS.values():
        pyvips.Operation.new_from_name(saver)  # raises when libvips has no such operation


def test_the_allowed_loaders_are_real_libvips_classes_but_one_gif_loader() -> None:
    missing = [name for name in ALLOWED_LOADERS if pyvips.type_from_name(name) == 0]
    assert missing in ([], ["VipsForeignLoadGif"], ["VipsForeignLoadNsgif"])  # one per libvips generation
    assert set(ALLOWED_LOADERS.values()) == {"jpeg", "png", "webp", "heif", "tiff", "gif"}


def test_a_real_image_of_each_input_type_is_opened_by_an_allowed_loader() -> None:
    image = pyvips.Image.black(8, 8).add(100).cast("uchar")
    encoded = {
        "jpeg": image.jpegsave_buffer(),
        "png": image.pngsave_buffer(),
        "webp": image.webpsave_buffer(),
        "heif": image.heifsave_buffer(compression="av1"),
        "tiff": image.tiffsave_buffer(),
    }
    for kind, data in encoded.items():
        loader = pyvips.Image.new_from_buffer(data, "").get("vips-loader")
        names = {n for n, k in ALLOWED_LOADERS.items() if k == kind}
        assert any(loader.startswith(name.removeprefix("VipsForeignLoad").lower()) for name in names), loader
        assert sniff_refused_type(data) is None


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n", "PDF"),
        (b"  \n<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"<?xml version='1.0'?><svg/>", "XML/SVG"),
        (b"<!-- a comment first -->" + b" " * 500 + b"<svg/>", "SVG"),
        (b"BM\x36\x00", "BMP"),
        (b"\x00\x00\x00\x0cJXL \r\n", "JPEG XL"),
        (b"P6\n8 8\n255\n", "PBM/PGM/PPM"),
        (b"PK\x03\x04zip", "ZIP archive"),
        (b"plain text", None),
        (b"", None),
    ],
)
def test_sniff_names_well_known_refused_types(data: bytes, name: str | None) -> None:
    assert sniff_refused_type(data) == name
