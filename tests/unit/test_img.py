"""service/api/img.py through the real app (edge layers, a real worker): signed imgproxy URLs over
local and stored sources, decoded again; caching headers; 304 without converting; HEAD; refusals."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips
from appclient import jpeg, running_app
from litestar import Litestar
from litestar.testing import TestClient

from service import metrics
from service.api.img import IMG_ERRORS, etag_for, not_modified
from service.app import create_app
from service.imgurl.urloptions import parse_url_options
from service.settings import SettingsError, load_settings
from service.sources.loader import SourceInfo
from service.sources.signature import SigningPair, sign

KEY, SALT = "736563726574", "68656c6c6f"
PAIR = SigningPair(bytes.fromhex(KEY), bytes.fromhex(SALT))


def signed(path: str) -> str:
    return f"/img/{sign(path, PAIR)}{path}"


def b64(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def conversions() -> float:
    return sum(sample.value for m in metrics.CONVERSIONS.collect() for sample in m.samples)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    root = tmp_path_factory.mktemp("source_dir")
    (root / "photo.jpg").write_bytes(jpeg(400, 300))
    alpha = pyvips.Image.black(60, 40, bands=3).bandjoin(128).copy(interpretation="srgb")
    (root / "alpha.png").write_bytes(alpha.pngsave_buffer())
    (root / "notes.txt").write_bytes(b"not an image")
    env = {
        "URL_SIGNING_KEY": KEY,
        "URL_SIGNING_SALT": SALT,
        "SOURCE_DIR": str(root),
        "URL_PRESETS": "default=q:70,thumb=rs:fill:50:50/f:png",
    }
    with running_app(env) as (client, _):
        yield client


def test_a_local_source_converted_and_decoded(app_client: TestClient[Litestar]) -> None:
    response = app_client.get(signed("/rs:fill:100:80/plain/local:///photo.jpg@webp"))
    assert response.status_code == 200, response.text
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height, response.headers["content-type"]) == (100, 80, "image/webp")
    assert image.get("vips-loader").startswith("webpload")
    assert response.headers["etag"].startswith('"') and "W/" not in response.headers["etag"]
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.headers["last-modified"].endswith("GMT") and "vary" not in response.headers
    assert response.headers["content-disposition"] == 'inline; filename="photo.webp"'
    assert response.headers["x-quality"] == "70"  # the default preset


def test_a_repeat_is_304_without_converting(app_client: TestClient[Litestar]) -> None:
    url = signed("/w:120/plain/local:///photo.jpg@png")
    first = app_client.get(url)
    before = conversions()
    again = app_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    since = app_client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert (again.status_code, since.status_code) == (304, 304)
    assert again.content == b"" and again.headers["etag"] == first.headers["etag"]
    assert conversions() == before  # neither converted
    other = app_client.get(url, headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and conversions() == before + 1


def test_head_answers_the_headers_only(app_client: TestClient[Litestar]) -> None:
    url = signed("/w:90/plain/local:///photo.jpg@jpg")
    got, head = app_client.get(url), app_client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["etag"] == got.headers["etag"] and head.headers["content-type"] == "image/jpeg"


def test_without_a_format_accept_decides_then_the_source(app_client: TestClient[Litestar]) -> None:
    url = signed("/w:30/" + b64("local:///alpha.png"))
    avif = app_client.get(url, headers={"Accept": "image/avif,image/webp,*/*"})
    webp = app_client.get(url, headers={"Accept": "image/webp,*/*"})
    plain = app_client.get(url, headers={"Accept": "*/*"})
    assert [r.headers["content-type"] for r in (avif, webp, plain)] == ["image/avif", "image/webp", "image/png"]
    assert all(r.headers["vary"] == "Accept" for r in (avif, webp, plain))
    assert len({r.headers["etag"] for r in (avif, webp, plain)}) == 3
    assert pyvips.Image.new_from_buffer(plain.content, "").hasalpha()


def test_resizing_types_that_need_the_source_size(app_client: TestClient[Litestar]) -> None:
    down = app_client.get(signed("/rs:fill-down:800:400/plain/local:///photo.jpg@png"))
    force = app_client.get(signed("/rs:force:100:0/plain/local:///photo.jpg@png"))
    sizes = [(int(r.headers["x-image-width"]), int(r.headers["x-image-height"])) for r in (down, force)]
    assert sizes == [(400, 200), (100, 300)]


def test_presets_and_attachment(app_client: TestClient[Litestar]) -> None:
    response = app_client.get(signed("/pr:thumb/att:1/fn:holiday/plain/local:///photo.jpg"))
    assert response.status_code == 200
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height, response.headers["content-type"]) == (50, 50, "image/png")
    assert response.headers["content-disposition"] == 'attachment; filename="holiday.png"'


def test_stored_sources_upload_once_and_convert_by_url(app_client: TestClient[Litestar]) -> None:
    data = jpeg(320, 240)
    stored = app_client.post("/api/sources", content=data, headers={"Content-Type": "image/jpeg"})
    assert stored.status_code == 201, stored.text
    body = stored.json()
    assert body["source"].startswith("stored:///") and (body["width"], body["height"], body["format"]) == (
        320,
        240,
        "jpeg",
    )
    assert app_client.post("/api/sources", files={"image": ("a.jpg", data)}).json()["source"] == body["source"]
    response = app_client.get(signed("/w:64/" + b64(body["source"]) + ".webp"))
    assert response.status_code == 200
    assert pyvips.Image.new_from_buffer(response.content, "").width == 64
    assert response.headers["cache-control"] == "public, max-age=86400, immutable"


def test_non_images_are_not_stored(app_client: TestClient[Litestar]) -> None:
    refused = app_client.post("/api/sources", content=b"%PDF-1.7 not an image", headers={"Content-Type": "image/png"})
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported_media"


@pytest.mark.parametrize(
    ("url", "status", "code", "field"),
    [
        ("/img/AAAA/w:10/plain/local:///photo.jpg", 403, "signature_invalid", "signature"),
        ("/img/insecure/w:10/plain/local:///photo.jpg", 403, "signature_invalid", "signature"),
        (signed("/w:10/exp:1/plain/local:///photo.jpg"), 410, "url_expired", "expires"),
        (signed("/w:abc/plain/local:///photo.jpg"), 422, "invalid_url_option", "width"),
        (signed("/g:sm/plain/local:///photo.jpg"), 422, "invalid_url_option", "g"),
        (signed("/w:10/plain/local:///photo.jpg@gif"), 422, "invalid_url_option", "extension"),
        (signed("/w:10/" + b64("local:///../etc/passwd")), 404, "source_not_found", "source"),
        (signed("/w:10/plain/local:///%2e%2e/etc/passwd"), 404, "source_not_found", "source"),
        (signed("/w:10/plain/local:///missing.jpg"), 404, "source_not_found", "source"),
        (signed("/w:10/plain/stored:///" + "0" * 64), 404, "source_not_found", "source"),
        (signed("/w:10/plain/http://127.0.0.1/a.jpg"), 422, "source_unsupported", "source"),
        (signed("/w:10/plain/local:///notes.txt"), 415, "unsupported_media", "image"),
        (signed("/w:10/%%%"), 422, "invalid_url", "source"),
    ],
)
def test_refusals_are_json_with_the_right_status(
    app_client: TestClient[Litestar], url: str, status: int, code: str, field: str
) -> None:
    response = app_client.get(url)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert code in {declared.name for declared in IMG_ERRORS}  # the route's OpenAPI lists what it answers


def test_nothing_is_read_before_the_signature(tmp_path: Path) -> None:
    # A source that would be refused for its content: with a bad signature the answer is 403 still.
    with running_app({"URL_SIGNING_KEY": KEY, "URL_SIGNING_SALT": SALT, "SOURCE_DIR": str(tmp_path)}) as (client, _):
        assert client.get("/img/x/w:abc/plain/http://10.0.0.1/").status_code == 403
        assert client.get(signed("/w:10/plain/local:///nothing.jpg")).status_code == 404


def test_unsigned_urls_only_when_allowed(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(jpeg(40, 30))
    env = {"URL_ALLOW_UNSIGNED": "true", "SOURCE_DIR": str(tmp_path)}
    with running_app(env) as (client, _):
        assert client.get("/img/insecure/w:20/plain/local:///photo.jpg").status_code == 200
        assert client.get("/img/_/w:20/plain/local:///photo.jpg").status_code == 200
        assert client.get("/img/whatever/w:20/plain/local:///photo.jpg").status_code == 403


def test_keys_and_salts_that_do_not_pair_stop_the_start() -> None:
    with pytest.raises(SettingsError, match="URL_SIGNING_SALT"):
        create_app(load_settings({"URL_SIGNING_KEY": "aa,bb", "URL_SIGNING_SALT": "cc"}))


def test_etags_and_conditions() -> None:
    info = SourceInfo("sha256:abc", 10, 1000.0, True)
    options = parse_url_options(["w:10"])
    tag = etag_for(info, options, None, "8.15")
    assert tag != etag_for(info, options, None, "8.16")  # another libvips
    assert tag != etag_for(info, options, "avif", "8.15")
    assert tag != etag_for(info, parse_url_options(["w:11"]), None, "8.15")
    assert not_modified(f'"x", W/{tag}', None, tag, 0) and not_modified("*", None, tag, 0)
    assert not not_modified('"x"', "Thu, 01 Jan 2099 00:00:00 GMT", tag, 0)  # If-None-Match decides
    assert not_modified(None, "Thu, 01 Jan 1970 00:16:40 GMT", tag, 1000.0)
    assert not not_modified(None, "Thu, 01 Jan 1970 00:16:39 GMT", tag, 1000.0)
    assert not not_modified(None, "not a date", tag, time.time())


def test_the_url_options_are_in_the_options_document_and_openapi(app_client: TestClient[Litestar]) -> None:
    document = app_client.get("/api/options").json()
    resize = next(o for o in document["url_options"] if o["name"] == "resize")
    assert resize["short"] == ["rs"] and [a["name"] for a in resize["arguments"]][:3] == [
        "resizing_type",
        "width",
        "height",
    ]
    width = resize["arguments"][1]
    assert (width["minimum"], width["zero"], width["option"]) == (0, "auto", "width")
    operation = app_client.get("/schema/openapi.json").json()["paths"]["/img/{path}"]["get"]
    assert "`resize:%resizing_type:%width:%height:%enlarge:%extend` (rs)" in operation["description"]
    assert {"403", "404", "410", "422"} <= set(operation["responses"])


def test_the_signature_covers_the_path_as_sent_percent_encoded(
    app_client: TestClient[Litestar], tmp_path: Path
) -> None:
    encoded = "/w:10/plain/local:///caf%C3%A9.jpg"  # as a client sends it, and as imgproxy's builders sign it
    response = app_client.get(signed(encoded))
    assert response.status_code == 404, response.text  # signed correctly; there is no such file
    decoded = "/w:10/plain/local:///caf\u00e9.jpg"  # signed before encoding: the client sends other bytes
    assert app_client.get(signed(decoded)).status_code == 403


def source_reads(scheme: str, outcome: str) -> float:
    return metrics.SOURCE_READS.labels(scheme, outcome)._value.get()


def test_source_reads_are_counted_by_scheme_and_outcome(app_client: TestClient[Litestar]) -> None:
    url = signed("/w:40/plain/local:///photo.jpg@png")
    ok, missing, not_modified = (source_reads("local", o) for o in ("ok", "source_not_found", "not_modified"))
    first = app_client.get(url)
    app_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    app_client.get(signed("/w:40/plain/local:///nope.jpg"))
    assert source_reads("local", "ok") == ok + 1
    assert source_reads("local", "not_modified") == not_modified + 1
    assert source_reads("local", "source_not_found") == missing + 1
    assert "imageconv_source_bytes_total" in app_client.get("/metrics").text
