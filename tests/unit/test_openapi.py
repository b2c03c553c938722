"""The OpenAPI helper on a small app shaped like the jobs routes: one `opt=route_doc(...)` per
handler gives typed option parameters, the upload body, media types and error responses."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post

from service.api.openapi import UPLOAD_ERRORS, RouteDoc, document_routes, route_doc
from service.errors import JOB_NOT_FOUND, STORAGE_FULL
from service.imaging.options import BATCH_NAMES, CONVERT_OPTIONS


class JobStatus(msgspec.Struct):
    id: str
    status: str


@post(
    "/api/jobs",
    status_code=202,
    opt=route_doc(options="batch", errors=(*UPLOAD_ERRORS, STORAGE_FULL), operation_id="submit", exclude=["response"]),
)
async def submit(request: Request[Any, Any, Any]) -> JobStatus:
    return JobStatus("x", "queued")


@get("/api/jobs/{job_id:str}", opt=route_doc(errors=(JOB_NOT_FOUND,)))
async def status(job_id: str) -> JobStatus:
    return JobStatus(job_id, "done")


@get("/api/jobs/{job_id:str}/archive", opt=route_doc(success="zip", errors=(JOB_NOT_FOUND,)))
async def archive(job_id: str) -> Response[bytes]:
    return Response(b"")


def _schema(max_dimension: int = 16383) -> dict[str, Any]:
    app = Litestar([submit, status, archive])
    document_routes(app, max_dimension=max_dimension)
    return app.openapi_schema.to_schema()


def test_an_upload_route_gets_every_option_the_body_and_its_errors():
    op = _schema(4000)["paths"]["/api/jobs"]["post"]
    names = [p["name"] for p in op["parameters"]]
    assert names == [spec.name for spec in CONVERT_OPTIONS] + [n for n in BATCH_NAMES if n != "response"]
    assert next(p for p in op["parameters"] if p["name"] == "widths")["schema"]["items"]["maximum"] == 4000
    assert op["operationId"] == "submit"
    assert {"multipart/form-data", "image/jpeg"} <= set(op["requestBody"]["content"])
    assert op["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobStatus"
    }  # Litestar's success response is kept
    assert {c for c in op["responses"] if c != "202"} == {"400", "413", "415", "422", "500", "503", "504", "507"}
    assert _codes(op["responses"]["507"]) == ["storage_full"]
    assert _codes(op["responses"]["400"]) == ["invalid_option", "bad_request"]
    assert _codes(op["responses"]["503"]) == ["overloaded", "deadline", "worker_crashed", "shutting_down"]
    assert "Retry-After" in op["responses"]["503"]["headers"] and "headers" not in op["responses"]["507"]
    assert "storage_full: Storage for jobs and stored sources is full" in op["responses"]["507"]["description"]


def test_other_routes_get_their_errors_and_media_types():
    paths = _schema()["paths"]
    assert "parameters" not in paths["/api/jobs/{job_id}"]["get"] or all(
        p["in"] == "path" for p in paths["/api/jobs/{job_id}"]["get"]["parameters"]
    )
    responses = paths["/api/jobs/{job_id}"]["get"]["responses"]
    assert set(responses) == {"200", "400", "404"}  # 400: Litestar's parameter validation, in our shape
    assert _codes(responses["400"]) == ["bad_request"]  # the framework's, mapped to its registered code
    assert _codes(responses["404"]) == ["job_not_found"]
    archive_ok = paths["/api/jobs/{job_id}/archive"]["get"]["responses"]["200"]
    assert set(archive_ok["content"]) == {"application/zip"}


def _codes(response: dict[str, Any]) -> list[str]:
    schema = response["content"]["application/json"]["schema"]
    assert schema["required"] == ["error"]
    return schema["properties"]["error"]["properties"]["code"]["enum"]


@get("/ready", opt={"openapi_route_doc": RouteDoc(success_statuses={503: "Not ready"})})
async def ready() -> JobStatus:
    return JobStatus("r", "ready")


def test_a_status_answered_with_the_success_body_says_so():
    app = Litestar([ready])
    document_routes(app)
    responses = app.openapi_schema.to_schema()["paths"]["/ready"]["get"]["responses"]
    assert responses["503"]["content"] == responses["200"]["content"]
    assert responses["503"]["description"] == "Not ready"
