"""POST /api/convert over real HTTP; every output decoded again with libvips."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from apihelpers import decode, hard_edges, jpeg, loader, oriented_jpeg, with_alpha_png

LOADERS = {
    "jpeg": "jpegload_buffer",
    "png": "pngload_buffer",
    "webp": "webpload_buffer",
    "avif": "heifload_buffer",
    "tiff": "tiffload_buffer",
}
MIMES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif", "tiff": "image/tiff"}


@pytest.fixture(scope="module")
def source() -> bytes:
    return jpeg(800, 600)


def convert(
    client: httpx.Client, data: bytes, content_type: str = "image/jpeg", headers: dict | None = None, **params
) -> httpx.Response:
    return client.post(
        "/api/convert", params=params, content=data, headers={"Content-Type": content_type, **(headers or {})}
    )


def test_a_large_output_comes_back_whole(client, source):
    """Outputs of 128 KB and more come back from the worker through shared memory, not the pipe:
    the PNG of a full-size photograph (~1 MB) must arrive byte for byte as encoded, twice over
    (the second answer reuses the file the first one came back in)."""
    answers = [convert(client, source, format="png") for _ in range(2)]
    for r in answers:
        assert r.status_code == 200, r.text
        assert len(r.content) > 256 * 1024
        image = decode(r.content)
        assert image.get("vips-loader") == "pngload_buffer"
        assert (image.width, image.height) == (800, 600)
        assert image.avg() > 0  # every pixel decodes: a truncated PNG fails here
    assert answers[0].content == answers[1].content


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "tiff"])
def test_each_format_round_trips_at_the_asked_width(client, source, fmt):
    r = convert(client, source, width=320, format=fmt, quality=70)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MIMES[fmt]
    image = decode(r.content)
    assert image.get("vips-loader") == LOADERS[fmt]
    assert (image.width, image.height) == (320, 240)
    assert (r.headers["x-image-width"], r.headers["x-image-height"]) == ("320", "240")
    ext = {"jpeg": "jpg", "tiff": "tiff"}.get(fmt, fmt)
    assert r.headers["content-disposition"] == f'inline; filename="image_320x240_q70.{ext}"'


def test_multipart_upload_with_form_fields_and_safe_filename(client, source):
    r = client.post(
        "/api/convert",
        files={"image": ('../../etc/pass"wd; x.jpg', source, "image/jpeg")},
        data={"width": "200", "format": "webp"},
    )
    assert r.status_code == 200, r.text
    assert loader(r.content) == "webpload_buffer" and decode(r.content).width == 200
    disposition = r.headers["content-disposition"]
    assert "/" not in disposition and ";" not in disposition.split("filename=")[1] and '"' not in disposition[22:-1]


@pytest.mark.parametrize(
    ("fit", "size"),
    [
        ("inside", (200, 150)),
        ("cover", (200, 200)),
        ("contain", (200, 200)),
        ("fill", (200, 200)),
        ("outside", (267, 200)),
    ],
)
def test_fit_modes(client, source, fit, size):
    r = convert(client, source, width=200, height=200, fit=fit, format="png")
    assert r.status_code == 200, r.text
    image = decode(r.content)
    assert (image.width, image.height) == size
    if fit == "contain":  # letterboxed: transparent bars above and below the 200x150 picture
        assert image.hasalpha() and image(100, 5)[3] == 0 and image(100, 100)[3] == 255
    if fit == "fill":  # stretched: no bars, every pixel opaque
        assert image.bands == 3


def test_no_enlargement_by_default_and_enlarge_opt_in(client, source):
    kept = decode(convert(client, source, width=1600, format="jpeg").content)
    assert (kept.width, kept.height) == (800, 600)
    grown = decode(convert(client, source, width=1600, enlarge="true", format="jpeg").content)
    assert (grown.width, grown.height) == (1600, 1200)


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_orientation_is_applied_and_metadata_stripped(client, orientation):
    r = convert(client, oriented_jpeg(orientation), format="png")
    image = decode(r.content)
    if orientation in (6, 8):
        assert (image.width, image.height) == (200, 400)
        top, bottom = image(100, 20), image(100, 380)
        # 6 = rotate 90 clockwise to display: the left (red) half ends on top; 8 the other way.
        red_on_top = orientation == 6
        assert (top[0] > 200 and top[2] < 60) is red_on_top
        assert (bottom[2] > 200 and bottom[0] < 60) is red_on_top
    else:
        left = image(20, 100)
        assert (image.width, image.height) == (400, 200) and left[2] > 200  # 180 degrees: blue left
    assert "orientation" not in image.get_fields()


def test_metadata_is_stripped_by_default_and_kept_on_request(client):
    source = oriented_jpeg(1)
    assert "exif-data" in decode(source).get_fields()
    stripped = decode(convert(client, source, format="jpeg").content)
    kept = decode(convert(client, source, format="jpeg", keep_metadata="true").content)
    assert "exif-data" not in stripped.get_fields()
    assert "exif-data" in kept.get_fields()


def test_trellis_quantisation_really_shrinks_the_jpeg(client, source):
    plain = convert(client, source, format="jpeg", quality=75).content
    trellis = convert(client, source, format="jpeg", quality=75, trellis_quant="true").content
    assert len(trellis) < len(plain) * 0.99
    assert decode(trellis).width == 800


def test_progressive_gives_an_interlaced_jpeg(client, source):
    baseline = convert(client, source, format="jpeg", progressive="false").content
    progressive = convert(client, source, format="jpeg", progressive="true").content
    assert b"\xff\xc2" in progressive and b"\xff\xc2" not in baseline  # SOF2 = progressive DCT
    assert decode(progressive).get("interlaced") == 1
    assert "interlaced" not in decode(baseline).get_fields() or decode(baseline).get("interlaced") == 0


@pytest.mark.parametrize(
    ("name", "value", "fmt"),
    [
        ("optimize_scans", "true", "jpeg"),
        ("overshoot_deringing", "true", "jpeg"),
        ("quant_table", "3", "jpeg"),
        ("chroma_subsampling", "4:4:4", "jpeg"),
        ("optimize_coding", "false", "jpeg"),
        ("palette", "true", "png"),
        ("compression", "1", "png"),
        ("colors", "16", "png"),
        ("lossless", "true", "webp"),
        ("near_lossless", "true", "webp"),
        ("smart_subsample", "true", "webp"),
        ("effort", "0", "webp"),
        ("effort", "0", "avif"),
        ("bitdepth", "10", "avif"),
        ("lossless", "true", "avif"),
        ("chroma_subsampling", "4:4:4", "avif"),
        ("compression", "deflate", "tiff"),
        ("compression", "jpeg", "tiff"),
        ("predictor", "none", "tiff"),
        ("tile", "true", "tiff"),
        ("pyramid", "true", "tiff"),
    ],
)
def test_each_advanced_option_changes_the_output(client, name, value, fmt):
    # Deringing only acts where pixels clip at 0/255 next to sharp edges: give it black text on white.
    source = hard_edges() if name == "overshoot_deringing" else jpeg(256, 192)
    # optimize_scans only acts on progressive JPEGs, so both sides get progressive for it.
    common = {"progressive": "true"} if name == "optimize_scans" else {}
    if fmt != "png":  # for PNG a quality switches palette quantisation on, as in sharp
        common["quality"] = "70"
    base = convert(client, source, format=fmt, **common)
    changed = convert(client, source, format=fmt, **{name: value}, **common)
    assert base.status_code == changed.status_code == 200, changed.text
    assert hashlib.sha256(base.content).hexdigest() != hashlib.sha256(changed.content).hexdigest()
    assert loader(changed.content) == LOADERS[fmt]


def test_avif_bitdepth_10_is_really_10_bit(client):
    out = decode(convert(client, jpeg(128, 96), format="avif", bitdepth=10).content)
    assert out.get("bits-per-sample") == 10


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_higher_quality_gives_more_bytes(client, source, fmt):
    sizes = [len(convert(client, source, format=fmt, quality=q, width=400).content) for q in (30, 60, 90)]
    assert sizes[0] < sizes[1] < sizes[2], sizes


@pytest.mark.parametrize(
    ("accept", "data", "expected"),
    [
        ("image/avif,image/webp,*/*", "jpeg", "avif"),
        ("image/webp,*/*;q=0.8", "jpeg", "webp"),
        ("*/*", "jpeg", "jpeg"),
        (None, "jpeg", "jpeg"),
        ("image/avif;q=0,image/webp", "jpeg", "webp"),
        ("*/*", "alpha", "png"),
        ("image/webp", "alpha", "webp"),
    ],
)
def test_auto_follows_accept(client, source, accept, data, expected):
    body = source if data == "jpeg" else with_alpha_png()
    headers = {"Accept": accept} if accept else {}
    r = convert(client, body, "image/jpeg" if data == "jpeg" else "image/png", headers, format="auto", width=200)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MIMES[expected]
    assert loader(r.content) == LOADERS[expected]
    assert r.headers["vary"] == "Accept"


def test_explicit_format_does_not_vary(client, source):
    assert "vary" not in convert(client, source, format="webp").headers


def test_alpha_flattened_onto_white_for_jpeg(client):
    out = decode(convert(client, with_alpha_png(), "image/png", format="jpeg").content)
    assert out.bands == 3 and min(out(10, 10)) > 250  # the transparent left half became white


def test_embedded_icc_profile_is_converted_to_srgb(client):
    import pyvips

    red = pyvips.Image.black(64, 64).new_from_image([255, 0, 0]).copy(interpretation="srgb").cast("uchar")
    in_p3 = red.icc_transform("p3", input_profile="srgb")  # same colour, P3 numbers, P3 profile attached
    assert "icc-profile-data" in in_p3.get_fields() and in_p3(5, 5)[0] < 245
    out = decode(convert(client, in_p3.pngsave_buffer(), "image/png", format="png").content)
    r, g, b = out(5, 5)[:3]
    assert r > 250 and g < 10 and b < 10  # back to sRGB numbers: without conversion it would stay ~234,51,35


def test_non_ascii_file_names_survive_in_content_disposition(client, source):
    from urllib.parse import unquote

    r = client.post(
        "/api/convert", files={"image": ("서울 야경.jpg", source, "image/jpeg")}, data={"width": "100", "format": "png"}
    )
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition.startswith('inline; filename="') and disposition.isascii()
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "서울_야경_100x75.png"
