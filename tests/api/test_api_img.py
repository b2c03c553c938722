"""GET /img end to end over real HTTP: a real `python -m service` on loopback, URLs built by a small
imgproxy URL builder written here from imgproxy's documentation (not the service's code), stored
and local sources converted and decoded again, 304 on a repeat, refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from apihelpers import Service, decode, jpeg, with_alpha_png

KEYS = ("943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881", "736563726574")
SALTS = ("520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5", "68656C6C6F")


def imgproxy_url(
    options: list[str], source: str, extension: str | None = None, *, plain: bool = False, pair: int = 0
) -> str:
    """imgproxy's documented scheme: the path after the signature is /options.../source, the
    source either plain/ + percent-encoded URL [@ext] or URL-safe base64 without padding, split
    into chunks by / [.ext]; the signature is URL-safe base64 (no padding) of
    HMAC-SHA256(key, salt + path), with key and salt given in hex."""
    if plain:
        tail = "plain/" + quote(source, safe=":/") + (f"@{extension}" if extension else "")
    else:
        encoded = base64.urlsafe_b64encode(source.encode()).decode().rstrip("=")
        tail = "/".join(encoded[i : i + 16] for i in range(0, len(encoded), 16)) + (
            f".{extension}" if extension else ""
        )
    path = "/" + "/".join([*options, tail])
    key, salt = bytes.fromhex(KEYS[pair]), bytes.fromhex(SALTS[pair])
    signature = base64.urlsafe_b64encode(hmac.new(key, salt + path.encode(), hashlib.sha256).digest()).decode()
    return "/img/" + signature.rstrip("=") + path


def test_the_builder_reproduces_imgproxys_documented_example() -> None:
    url = imgproxy_url(["rs:fill:300:400:0", "g:sm"], "http://example.com/images/curiosity.jpg", "png", pair=1)
    expected = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
    assert url == "/img/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" + expected


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    (root / "photos").mkdir()
    (root / "photos" / "landscape.jpg").write_bytes(jpeg(800, 600))
    (root / "alpha.png").write_bytes(with_alpha_png(400, 300))
    outside = tmp_path_factory.mktemp("outside") / "secret.jpg"
    outside.write_bytes(jpeg(64, 64))
    os.symlink(outside, root / "link-out.jpg")
    return root


@pytest.fixture(scope="module")
def img_client(source_dir: Path) -> Iterator[httpx.Client]:
    env = {
        "URL_SIGNING_KEY": ",".join(KEYS),
        "URL_SIGNING_SALT": ",".join(SALTS),
        "SOURCE_DIR": str(source_dir),
        "URL_PRESETS": "card=rs:fill:160:90/q:60",
    }
    service = Service("img", env).start()
    try:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            yield client
    finally:
        assert service.stop() == 0, service.log()


def conversions(client: httpx.Client) -> float:
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("imageconv_conversions_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_stored_source_uploaded_once_converted_by_url_and_cached(img_client: httpx.Client) -> None:
    upload = img_client.post("/api/sources", content=jpeg(1200, 900), headers={"Content-Type": "image/jpeg"})
    assert upload.status_code == 201, upload.text
    source = upload.json()["source"]
    for width, height, fmt in ((300, 200, "webp"), (120, 120, "avif"), (640, 480, "jpg")):
        url = imgproxy_url([f"rs:fill:{width}:{height}"], source, fmt)
        response = img_client.get(url)
        assert response.status_code == 200, response.text
        image = decode(response.content)
        assert (image.width, image.height) == (width, height)
        loader = image.get("vips-loader")
        assert loader.startswith({"webp": "webpload", "avif": "heifload", "jpg": "jpegload"}[fmt])
        assert "immutable" in response.headers["cache-control"]
    before = conversions(img_client)
    repeat = img_client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert repeat.status_code == 304 and repeat.content == b""
    assert conversions(img_client) == before  # the 304 converted nothing


def test_a_local_source_by_plain_url_with_a_preset_and_the_second_key(img_client: httpx.Client) -> None:
    response = img_client.get(imgproxy_url(["pr:card"], "local:///photos/landscape.jpg", "png", plain=True, pair=1))
    assert response.status_code == 200, response.text
    image = decode(response.content)
    assert (image.width, image.height, response.headers["content-type"]) == (160, 90, "image/png")
    fit = img_client.get(imgproxy_url(["rs:fit:100:100"], "local:///photos/landscape.jpg", "jpg"))
    assert (decode(fit.content).width, decode(fit.content).height) == (100, 75)
    head = img_client.head(imgproxy_url(["rs:fit:100:100"], "local:///photos/landscape.jpg", "jpg"))
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(fit.content))


def test_accept_picks_the_format_when_the_url_does_not(img_client: httpx.Client) -> None:
    url = imgproxy_url(["w:200"], "local:///alpha.png")
    avif = img_client.get(url, headers={"Accept": "image/avif,image/webp,*/*"})
    png = img_client.get(url, headers={"Accept": "image/*"})
    assert (avif.headers["content-type"], png.headers["content-type"]) == ("image/avif", "image/png")
    assert avif.headers["vary"] == png.headers["vary"] == "Accept"
    assert decode(png.content).hasalpha() and decode(avif.content).width == 200


def test_a_tampered_signature_is_403(img_client: httpx.Client) -> None:
    url = imgproxy_url(["w:100"], "local:///photos/landscape.jpg", "jpg")
    tampered = url.replace("/w:100/", "/w:101/")
    for bad in (tampered, "/img/insecure/w:100/plain/local:///photos/landscape.jpg"):
        response = img_client.get(bad)
        assert response.status_code == 403 and response.json()["error"]["code"] == "signature_invalid"


@pytest.mark.parametrize(
    "source",
    [
        "local:///../etc/passwd",
        "local:///photos/../../../../etc/passwd",
        "local:////etc/passwd",
        "local:///link-out.jpg",
        "local:///photos",
        "local:///missing.jpg",
    ],
)
def test_no_escape_from_source_dir(img_client: httpx.Client, source: str) -> None:
    response = img_client.get(imgproxy_url(["w:50"], source, "jpg"))  # base64: no client normalises it away
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "source_not_found"


def test_expires(img_client: httpx.Client) -> None:
    past = img_client.get(imgproxy_url([f"exp:{int(time.time()) - 5}", "w:50"], "local:///photos/landscape.jpg"))
    assert past.status_code == 410 and past.json()["error"]["code"] == "url_expired"
    future = img_client.get(imgproxy_url([f"exp:{int(time.time()) + 600}", "w:50"], "local:///photos/landscape.jpg"))
    assert future.status_code == 200


def test_malformed_options_are_422_naming_them(img_client: httpx.Client) -> None:
    for options, field in ((["rs:squash:10:10"], "resize"), (["crop:10:10"], "crop"), (["nonsense:1"], "nonsense")):
        response = img_client.get(imgproxy_url(options, "local:///photos/landscape.jpg"))
        assert response.status_code == 422 and response.json()["error"]["field"] == field
