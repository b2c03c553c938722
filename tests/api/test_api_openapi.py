"""The OpenAPI schema is one a client generator can use: proven by generating a Python client with
openapi-python-client (from PyPI, in the test extra) and converting images through it against the
real service. Plus the schema's details: typed parameters, bodies, media types, error responses."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apihelpers import decode, jpeg, loader

from service.api.openapi_options import RAW_IMAGE_TYPES
from service.errors import CODES

UPLOAD_ROUTES = ("/api/convert", "/api/batch", "/api/process", "/api/preview")
# openapi-python-client reads only a few body types; the image types are binary like octet-stream
# (its documented `content_type_overrides`), so the client uploads and downloads raw bytes.
GENERATOR_CONFIG = "content_type_overrides:\n" + "".join(
    f"  {media}: application/octet-stream\n"
    for media in (*RAW_IMAGE_TYPES, "application/zip")
    if media != "application/octet-stream"
)


@pytest.fixture(scope="module")
def schema(client) -> dict:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


def _params(schema: dict, path: str) -> dict[str, dict]:
    return {p["name"]: p for p in schema["paths"][path]["post"].get("parameters", [])}


def test_query_parameters_are_typed_with_ranges_enums_and_defaults(schema):
    params = _params(schema, "/api/convert")
    assert params["width"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 16383}
    assert params["fit"]["schema"] == {
        "type": "string",
        "enum": ["inside", "cover", "contain", "fill", "outside"],
        "default": "inside",
    }
    assert params["format"]["schema"]["enum"] == ["jpeg", "png", "webp", "avif", "tiff", "auto"]
    assert params["enlarge"]["schema"] == {"type": "boolean", "default": False}
    assert params["bitdepth"]["schema"] == {"type": "integer", "enum": [8, 10, 12]}
    assert params["effort"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 10}
    assert "webp: an integer between 0 and 6, default 4" in params["effort"]["description"]
    assert len(params["compression"]["schema"]["oneOf"]) == 2
    # no default for a format-specific option: generated clients would send it with every format
    assert "default" not in params["trellis_quant"]["schema"] and "default" not in params["quality"]["schema"]
    batch = _params(schema, "/api/batch")
    assert batch["widths"]["schema"] == {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 16383}}
    assert batch["widths"]["explode"] is True and batch["formats"]["schema"]["items"]["enum"][0] == "jpeg"
    assert set(params) < set(batch)


def test_request_bodies_are_raw_images_or_multipart(schema):
    for path in UPLOAD_ROUTES:
        body = schema["paths"][path]["post"]["requestBody"]
        form = body["content"]["multipart/form-data"]["schema"]
        assert body["required"] is True and form["required"] == ["image"]
        assert form["properties"]["image"] == {"type": "string", "format": "binary", "description": "The image file"}
        if path in ("/api/process", "/api/preview"):  # the original's multipart contract, its field names
            assert set(body["content"]) == {"multipart/form-data"}
            assert {"optimizeScans", "trellisQuantisation", "mozjpeg", "width"} <= set(form["properties"])
            assert "trellis_quant" not in form["properties"]
            assert "auto" not in form["properties"]["format"]["enum"]
        else:
            assert {"image/jpeg", "image/png", "application/octet-stream"} <= set(body["content"])
            assert "trellis_quant" in form["properties"]


def test_success_responses_have_their_real_media_types(schema):
    convert = schema["paths"]["/api/convert"]["post"]["responses"]["200"]
    assert set(convert["content"]) == {"image/jpeg", "image/png", "image/webp", "image/avif", "image/tiff"}
    assert "X-Image-Width" in convert["headers"]
    batch = schema["paths"]["/api/batch"]["post"]["responses"]["200"]["content"]
    assert batch["application/zip"]["schema"]["format"] == "binary"
    assert batch["application/json"]["schema"] == {"$ref": "#/components/schemas/BatchManifest"}
    assert "BatchItem" in schema["components"]["schemas"]
    preview = schema["paths"]["/api/preview"]["post"]["responses"]["200"]["content"]
    assert "application/json" in preview
    options = schema["paths"]["/api/options"]["get"]["responses"]["200"]["content"]["application/json"]
    assert options["schema"] == {"$ref": "#/components/schemas/OptionsDocument"}


def test_every_error_a_route_can_answer_has_the_error_schema(schema):
    for path in UPLOAD_ROUTES:
        responses = schema["paths"][path]["post"]["responses"]
        errors = {code for code in responses if code[0] in "45"}
        assert errors == {"400", "413", "415", "422", "500", "503", "504"}, path
        for status in errors:
            answer = responses[status]["content"]["application/json"]["schema"]
            if path in ("/api/process", "/api/preview"):
                assert answer == {"$ref": "#/components/schemas/SeedError"}, (path, status)
                continue
            codes = answer["properties"]["error"]["properties"]["code"]["enum"]
            assert codes and {CODES[name].status for name in codes} == {int(status)}, (path, status)
        assert "Retry-After" in responses["503"]["headers"]
    convert = schema["paths"]["/api/convert"]["post"]["responses"]
    assert convert["415"]["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"][
        "enum"
    ] == ["unsupported_media"]
    body = schema["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["status", "code", "message"]
    assert schema["components"]["schemas"]["Allowed"]["required"] == ["type"]


def _codes_by_status(operation) -> dict[str, set[str]]:
    return {
        status: set(
            answer["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"]
        )
        for status, answer in operation["responses"].items()
        if status[0] in "45"
    }


def test_the_url_routes_list_the_codes_they_answer(schema):
    img = _codes_by_status(schema["paths"]["/img/{path}"]["get"])
    assert img["403"] == {"signature_invalid"} and img["410"] == {"url_expired"}
    assert img["404"] >= {"source_not_found"}
    assert img["422"] >= {
        "invalid_url",
        "invalid_url_option",
        "source_unsupported",
        "source_too_large",
        "unprocessable",
    }
    # The options and the source come in the URL, not in a form (400 is the framework's own, for a bad path).
    assert img.get("400", set()) <= {"bad_request"} and "413" not in img
    stored = _codes_by_status(schema["paths"]["/api/sources"]["post"])
    assert stored["507"] == {"storage_full"} and stored["415"] == {"unsupported_media"}
    assert "invalid_option" not in stored.get("400", set())  # it reads no options


@pytest.fixture(scope="module")
def generated_client(schema, tmp_path_factory):
    """A client package generated from the live schema, imported from a temporary directory."""
    work = tmp_path_factory.mktemp("generated")
    (work / "openapi.json").write_text(__import__("json").dumps(schema))
    (work / "config.yml").write_text(GENERATOR_CONFIG)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # its ruff post-hooks
    run = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            "openapi.json",
            "--meta",
            "none",
            "--output-path",
            "imageconv_client",
            "--config",
            "config.yml",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stdout, run.stdout  # nothing of the schema was skipped
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("imageconv_client")
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m.startswith("imageconv_client")]:
            del sys.modules[name]


def test_a_generated_client_converts_an_image(generated_client, service):
    from imageconv_client.api.convert import convert
    from imageconv_client.models.convert_format import ConvertFormat
    from imageconv_client.types import File

    client = generated_client.Client(base_url=service.url, timeout=60)
    source = jpeg(400, 300)
    response = convert.sync_detailed(
        client=client,
        body=File(payload=source, mime_type="image/jpeg"),
        width=200,
        format_=ConvertFormat.WEBP,
        effort=2,
        quality=70,
    )
    assert response.status_code == 200, response.content
    assert response.headers["content-type"] == "image/webp"
    out = response.parsed.payload.read()
    assert loader(out) == "webpload_buffer" and (decode(out).width, decode(out).height) == (200, 150)


def test_a_generated_client_sends_multipart_and_reads_typed_errors(generated_client, service):
    from imageconv_client.api.convert import convert
    from imageconv_client.models.convert_files_body import ConvertFilesBody
    from imageconv_client.models.convert_response_415 import ConvertResponse415
    from imageconv_client.models.convert_response_415_error_code import ConvertResponse415ErrorCode
    from imageconv_client.types import File

    client = generated_client.Client(base_url=service.url, timeout=60)
    body = ConvertFilesBody(image=File(payload=jpeg(400, 300), file_name="photo.jpg", mime_type="image/jpeg"))
    ok = convert.sync_detailed(client=client, body=body, width=100, trellis_quant=True)
    assert ok.status_code == 200, ok.content
    assert decode(ok.parsed.payload.read()).width == 100
    bad = convert.sync(client=client, body=File(payload=b"not an image", mime_type="image/jpeg"))
    assert isinstance(bad, ConvertResponse415)
    assert bad.error.status == 415 and bad.error.field == "image"
    assert bad.error.code is ConvertResponse415ErrorCode.UNSUPPORTED_MEDIA  # typed: the route's codes


def test_a_generated_client_reads_the_options_document(generated_client, service):
    from imageconv_client.api.options import options

    document = options.sync(client=generated_client.Client(base_url=service.url, timeout=60))
    assert document.limits.max_output_dimension == 16383
    assert [f.name for f in document.formats][:2] == ["jpeg", "png"]


def test_operations_routes_say_what_they_really_answer(schema):
    metrics = schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(metrics) == {"text/plain"}
    ready = schema["paths"]["/ready"]["get"]["responses"]
    assert ready["503"]["content"] == ready["200"]["content"]  # the same Readiness body, status 503
