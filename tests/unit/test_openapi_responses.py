"""The OpenAPI responses: error responses from the registry's codes, error components from the
error Structs, and the image/ZIP success bodies."""

from __future__ import annotations

from service import errors
from service.api.openapi_responses import error_response, error_schemas, image_response, zip_or_json
from service.imaging.formats import OutputFormat


def test_an_error_response_lists_its_codes_meanings_and_retry():
    response = error_response([errors.OVERLOADED, errors.WORKER_CRASHED], "json").to_schema()
    body = response["content"]["application/json"]["schema"]["properties"]["error"]
    assert body["properties"]["code"]["enum"] == ["overloaded", "worker_crashed"]
    assert body["required"] == ["status", "code", "message"]
    assert body["properties"]["allowed"]["anyOf"][0] == {"$ref": "#/components/schemas/Allowed"}
    assert (
        response["description"]
        == f"overloaded: {errors.OVERLOADED.meaning}; worker_crashed: {errors.WORKER_CRASHED.meaning}"
    )
    assert "Retry-After" in response["headers"]
    assert "headers" not in error_response([errors.DEADLINE_EXCEEDED], "json").to_schema()


def test_the_seed_routes_answer_their_own_shape():
    response = error_response([errors.UNSUPPORTED_MEDIA], "seed").to_schema()
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SeedError"}


def test_error_components_come_from_the_structs():
    schemas = {name: schema.to_schema() for name, schema in error_schemas().items()}
    assert set(schemas) == {"ErrorResponse", "ErrorBody", "Allowed", "SeedError"}
    assert schemas["ErrorResponse"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    codes = schemas["ErrorBody"]["properties"]["code"]["enum"]
    assert set(codes) == {code.name for code in errors.client_codes()} and "client_closed_request" not in codes
    assert set(schemas["Allowed"]["properties"]["type"]["enum"]) >= {"integer", "boolean", "choice", "requires"}


def test_success_bodies():
    image = image_response().to_schema()
    assert set(image["content"]) == {fmt.mime for fmt in OutputFormat}
    assert {"X-Image-Width", "Content-Disposition"} <= set(image["headers"])
    assert set(zip_or_json(None).to_schema()["content"]) == {"application/zip"}
