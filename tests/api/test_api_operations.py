"""Health, readiness, Prometheus metrics and the OpenAPI schema, as operators and clients see them."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pytest
from apihelpers import jpeg


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_health_is_ok_with_a_timestamp(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    stamp = dt.datetime.fromisoformat(body["timestamp"])
    assert abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < 60


def test_ready_reports_the_pool(client):
    r = client.get("/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["workers"] == 2 and body["capacity"] == 2 * (1 + 4)


def test_metrics_move_when_requests_are_served(client):
    before = client.get("/metrics").text
    data = jpeg(640, 480)
    for fmt in ("webp", "webp", "avif"):
        assert (
            client.post(
                "/api/convert",
                params={"format": fmt, "width": 100},
                content=data,
                headers={"Content-Type": "image/jpeg"},
            ).status_code
            == 200
        )
    client.post("/api/convert", params={"quality": "999"}, content=data, headers={"Content-Type": "image/jpeg"})
    after = client.get("/metrics").text

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("imageconv_conversions_total", format="webp") == 2
    assert delta("imageconv_conversions_total", format="avif") == 1
    assert delta("imageconv_http_requests_total", route="/api/convert", status="200") == 3
    assert delta("imageconv_http_requests_total", route="/api/convert", status="400") == 1
    assert delta("imageconv_http_request_duration_seconds_count", route="/api/convert", status="200") == 3
    assert delta("imageconv_rejections_total", reason="bad_input") == 1
    assert delta("imageconv_input_bytes_total") == 3 * len(data)
    assert delta("imageconv_output_bytes_total", format="webp") > 0
    assert delta("imageconv_encode_duration_seconds_count", format="avif") == 1
    assert delta("imageconv_decode_duration_seconds_count", format="jpeg") == 3
    assert sample(after, "imageconv_pool_workers") == 2
    for gauge in ("imageconv_pool_jobs_in_flight", "imageconv_pool_jobs_waiting", "imageconv_pool_saturation_ratio"):
        assert re.search(rf"^{gauge} ", after, re.M), gauge


def test_promtool_finds_nothing_to_complain_about(client):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: apt-get install prometheus (Debian) provides it")
    text = client.get("/metrics").text
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_openapi_documents_every_route_and_option(client):
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    for route in ("/api/convert", "/api/batch", "/api/process", "/api/preview", "/health", "/ready", "/metrics"):
        assert route in paths, route
    names = {p["name"] for p in paths["/api/convert"]["post"]["parameters"]}
    for option in (
        "width",
        "height",
        "fit",
        "enlarge",
        "format",
        "quality",
        "progressive",
        "optimize_scans",
        "trellis_quant",
        "overshoot_deringing",
        "optimize_coding",
        "quant_table",
        "chroma_subsampling",
        "compression",
        "palette",
        "colors",
        "effort",
        "lossless",
        "near_lossless",
        "alpha_quality",
        "smart_subsample",
        "bitdepth",
        "predictor",
        "tile",
        "pyramid",
        "keep_metadata",
    ):
        assert option in names, option
    batch = {p["name"] for p in paths["/api/batch"]["post"]["parameters"]}
    assert {"widths", "qualities", "formats", "response"} <= batch


def test_ui_pages_are_served(client):
    for path in ("/", "/batch"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "<html" in r.text.lower()
