"""The fast JPEG shrink-on-load (default) against libvips' own path (fast_shrink=false): same
geometry, orientation and crop, nearly the same pixels, and really a different decode."""

from __future__ import annotations

import httpx
import pytest
import pyvips
from apihelpers import decode, jpeg


def convert(client: httpx.Client, data: bytes, **params: object) -> httpx.Response:
    r = client.post("/api/convert", params=params, content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    return r


@pytest.fixture(scope="module")
def large() -> bytes:
    return jpeg(2400, 1600)


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"width": 320}, (320, 213)),  # 7.5x: 1/4 decode (libvips: 1/2)
        ({"width": 700}, (700, 467)),  # 3.4x: 1/2 decode (libvips: full)
        ({"width": 240, "height": 240, "fit": "cover"}, (240, 240)),  # 6.7x: 1/4 (libvips: 1/2)
        ({"width": 400, "height": 100, "fit": "fill"}, (400, 100)),
    ],
)
def test_fast_path_keeps_geometry_and_nearly_every_pixel(client, large, params, size):
    fast = convert(client, large, format="png", **params)
    precise = convert(client, large, format="png", fast_shrink="false", **params)
    a, b = decode(fast.content), decode(precise.content)
    assert (a.width, a.height) == (b.width, b.height) == size
    assert fast.content != precise.content  # the fast decode really ran
    difference = (a.cast("float") - b.cast("float")).abs()
    assert difference.avg() < 4 and difference.max() < 128  # the same picture, slightly differently filtered


def test_scoring_decodes_by_the_high_quality_path(client, large):
    """The score's reference is libvips' own decode: a scored output is the fast_shrink=false one."""
    scored = convert(client, large, width=320, format="png", score="true")
    assert scored.content == convert(client, large, width=320, format="png", fast_shrink="false").content
    assert float(scored.headers["x-quality-score"]) == 1.0  # lossless against its own reference


def test_small_reductions_take_the_usual_path(client, large):
    """Under 3x (1.5 of resize left after a 1/2 decode) there is nothing to gain: identical output."""
    assert convert(client, large, width=1700).content == convert(client, large, width=1700, fast_shrink="false").content


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied_on_the_fast_path(client, orientation):
    x = pyvips.Image.xyz(2000, 1000)[0]
    image = (x < 1000).ifthenelse([255, 0, 0], [0, 0, 255]).cast("uchar").copy(interpretation="srgb").copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    data = image.jpegsave_buffer(Q=95)
    fast = decode(convert(client, data, width=200, format="png").content)
    precise = decode(convert(client, data, width=200, format="png", fast_shrink="false").content)
    assert (fast.width, fast.height) == (precise.width, precise.height)
    assert (fast.width, fast.height) == ((200, 100) if orientation == 3 else (200, 400))
    # Same colours in the same places: the rotation was applied once, the same way.
    for x, y in ((10, 10), (fast.width - 10, fast.height - 10)):
        assert [round(v / 40) for v in fast(x, y)] == [round(v / 40) for v in precise(x, y)]
