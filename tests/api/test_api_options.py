"""GET /api/options: the one option table as JSON, with this deployment's limits, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from apihelpers import Service, decode, jpeg

CONTRACT_KEYS = {"formats", "options", "ui_defaults", "ui_grid", "limits", "url_options"}


@pytest.fixture(scope="module")
def document(client) -> dict:
    r = client.get("/api/options")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def test_document_shape_follows_the_contract(document):
    assert set(document) == CONTRACT_KEYS
    assert document["formats"][0] == {"name": "jpeg", "media_type": "image/jpeg", "extension": "jpg", "alpha": False}
    assert [f["name"] for f in document["formats"]] == ["jpeg", "png", "webp", "avif", "tiff"]
    quality = next(o for o in document["options"] if o["name"] == "quality")
    assert quality["group"] == "output" and quality["description"]
    by_format = {f: d for d in quality["domains"] for f in d["formats"]}
    assert by_format["jpeg"] == {
        "formats": ["jpeg"],
        "type": "int",
        "minimum": 1,
        "maximum": 100,
        "choices": None,
        "default": 80,
        "when": None,
    }
    assert by_format["png"]["when"] == [{"palette": [True]}]  # the UI shows it only with a palette
    assert by_format["webp"]["when"] == [{"lossless": [False]}, {"near_lossless": [True]}]
    assert by_format["avif"]["default"] == 50
    effort = next(o for o in document["options"] if o["name"] == "effort")
    assert {d["formats"][0]: (d["minimum"], d["maximum"]) for d in effort["domains"]} == {
        "png": (1, 10),
        "webp": (0, 6),
        "avif": (0, 9),
    }
    bitdepth = next(o for o in document["options"] if o["name"] == "bitdepth")
    assert bitdepth["domains"][0]["choices"] == [8, 10, 12]
    groups = {o["name"]: o["group"] for o in document["options"]}
    assert groups["width"] == "geometry" and groups["trellis_quant"] == "encoder" and groups["widths"] == "batch"


def test_ui_defaults_are_the_original_pages_jpeg_and_each_formats_own_quality(document):
    ui = document["ui_defaults"]
    assert {
        k: ui["jpeg"][k]
        for k in (
            "quality",
            "progressive",
            "optimize_scans",
            "trellis_quant",
            "overshoot_deringing",
            "optimize_coding",
            "quant_table",
            "chroma_subsampling",
        )
    } == {
        "quality": 80,
        "progressive": True,
        "optimize_scans": True,
        "trellis_quant": True,
        "overshoot_deringing": True,
        "optimize_coding": True,
        "quant_table": 3,
        "chroma_subsampling": "4:2:0",
    }
    assert ui["avif"]["quality"] == 50 and ui["webp"]["quality"] == 80
    assert "trellis_quant" not in ui["webp"]  # each format lists only its own options


def test_the_ui_defaults_make_smaller_jpegs_than_the_api_defaults(client, document):
    """What the browser preselects is what the original page sent; it must convert, and be smaller."""
    image = jpeg(800, 600)
    ui = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in document["ui_defaults"]["jpeg"].items()}
    with_ui = client.post(
        "/api/convert",
        params={**ui, "format": "jpeg", "width": 400},
        content=image,
        headers={"content-type": "image/jpeg"},
    )
    plain = client.post(
        "/api/convert", params={"format": "jpeg", "width": 400}, content=image, headers={"content-type": "image/jpeg"}
    )
    assert with_ui.status_code == plain.status_code == 200, with_ui.text
    assert decode(with_ui.content).get("interlaced") == 1
    assert len(with_ui.content) < len(plain.content)


def test_limits_are_this_deployments(document):
    assert document["limits"] == {
        "max_output_dimension": 16383,
        "max_upload_bytes": 4_000_000,
        "max_input_pixels": 40_000_000,
        "max_batch_outputs": 60,
        "max_job_outputs": 600,
    }


def test_the_batch_pages_grid_is_in_the_document(document):
    assert document["ui_grid"] == {
        "widths": [320, 800, 1200],
        "qualities": [50, 75, 90],
        "max_widths": 6,
        "max_qualities": 10,
    }


@pytest.fixture(scope="module")
def narrow() -> Iterator[Service]:
    svc = Service("options-narrow", {"MAX_OUTPUT_DIMENSION": "4000", "MAX_BATCH_OUTPUTS": "12"}).start()
    yield svc
    svc.stop()


def test_a_lower_max_output_dimension_reaches_the_document_the_schema_and_the_parser(narrow):
    doc = httpx.get(narrow.url + "/api/options").json()
    width = next(o for o in doc["options"] if o["name"] == "width")
    assert width["domains"][0]["maximum"] == 4000 and doc["limits"]["max_output_dimension"] == 4000
    assert doc["limits"]["max_batch_outputs"] == 12
    schema = httpx.get(narrow.url + "/schema/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/convert"]["post"]["parameters"]}
    assert params["width"]["schema"]["maximum"] == 4000
    r = httpx.post(
        narrow.url + "/api/convert",
        params={"width": 4001},
        content=jpeg(64, 48),
        headers={"content-type": "image/jpeg"},
    )
    assert r.status_code == 400 and r.json()["error"]["allowed"] == {"type": "integer", "minimum": 1, "maximum": 4000}
    assert "an integer between 1 and 4000" in r.json()["error"]["message"]
