"""Error classification: every failure the code raises maps to one registered code, which gives the
status, the metric reason and the Retry-After; framework errors map by status; the rest is a logged 500."""

from __future__ import annotations

import logging

import msgspec
import pytest
from litestar.exceptions import (
    ClientException,
    HTTPException,
    InternalServerException,
    MethodNotAllowedException,
    NotFoundException,
)

from service import errors
from service.api.disconnect import ClientGone
from service.api.errors import ErrorBody, ErrorResponse, classify
from service.api.inputs import TooManyParts
from service.imaging.errors import Allowed, ImageError, OptionError
from service.jobs.errors import StorageFull, TooManyJobs
from service.pool import DeadlineExceeded, Overloaded, PoolClosed, WorkerCrashed


def test_option_error_names_field_allowed_and_received():
    allowed = Allowed("integer", minimum=1, maximum=100)
    f = classify(OptionError("quality", "an integer between 1 and 100", "101", allowed))
    assert (f.status, f.code.name, f.reason, f.field, f.allowed, f.received) == (
        400,
        "invalid_option",
        "bad_input",
        "quality",
        allowed,
        "101",
    )
    assert f.message == "Expected an integer between 1 and 100 for quality but received '101'"


def test_the_json_body_carries_allowed_as_data():
    allowed = Allowed("choice", choices=("inside", "cover"))
    f = classify(OptionError("fit", "one of inside, cover", "stretch", allowed))
    body = ErrorBody(f.status, f.code.name, f.message, f.field, f.allowed, f.received)
    assert msgspec.json.decode(msgspec.json.encode(ErrorResponse(body)))["error"] == {
        "status": 400,
        "code": "invalid_option",
        "message": "Expected one of inside, cover for fit but received 'stretch'",
        "field": "fit",
        "allowed": {"type": "choice", "choices": ["inside", "cover"]},
        "received": "stretch",
    }


@pytest.mark.parametrize(
    ("code", "status", "reason", "retry"),
    [
        (errors.INVALID_OPTION, 400, "bad_input", None),
        (errors.UNSUPPORTED_MEDIA, 415, "bad_input", None),
        (errors.UNPROCESSABLE, 422, "bad_input", None),
        (errors.MAX_BYTES_UNREACHABLE, 422, "bad_input", None),
        (errors.DEADLINE, 503, "deadline", 1),
    ],
)
def test_image_errors_answer_their_code(code, status, reason, retry):
    f = classify(ImageError(code, "why", "image"))
    assert (f.status, f.code, f.reason, f.retry_after, f.field) == (status, code, reason, retry, "image")


@pytest.mark.parametrize(
    ("exc", "status", "code", "reason", "retry"),
    [
        (Overloaded(3), 503, "overloaded", "overload", 3),
        (DeadlineExceeded(started=True), 504, "deadline_exceeded", "deadline", None),
        (DeadlineExceeded(started=False), 503, "deadline", "deadline", 1),
        (WorkerCrashed(), 503, "worker_crashed", "worker_crash", 1),
        (PoolClosed(), 503, "shutting_down", "shutdown", 1),
        (ClientGone(), 499, "client_closed_request", "client_gone", None),
        (TooManyJobs(5), 503, "too_many_jobs", "overload", 10),
        (StorageFull(10, 5), 507, "storage_full", "overload", None),
    ],
)
def test_pool_job_and_connection_failures(exc, status, code, reason, retry):
    f = classify(exc)
    assert (f.status, f.code.name, f.reason, f.retry_after) == (status, code, reason, retry)


def test_framework_errors_map_to_the_code_registered_for_their_status():
    missing = classify(NotFoundException())
    assert (missing.status, missing.code, missing.reason) == (404, errors.NOT_FOUND, None)
    assert classify(MethodNotAllowedException()).code is errors.METHOD_NOT_ALLOWED
    bad = classify(ClientException("Invalid multipart/form-data: Malformed segment header"))
    assert (bad.status, bad.code.name, bad.reason) == (400, "bad_request", "bad_input")
    assert "Malformed" in bad.message
    big = classify(HTTPException(status_code=413))
    assert (big.status, big.code.name, big.reason, big.field) == (413, "payload_too_large", "too_large", "image")
    assert "MAX_UPLOAD_BYTES" in big.message
    assert classify(HTTPException(status_code=409)).code is errors.BAD_REQUEST  # a 4xx with no code of its own


def test_too_many_parts_ours_or_litestars_is_one_code():
    ours, theirs = classify(TooManyParts()), classify(ClientException("Request Entity Too Large"))
    assert ours == theirs
    assert (ours.status, ours.code.name, ours.field) == (413, "too_many_parts", "image")


def test_an_abandoned_upload_is_the_clients_doing():
    f = classify(InternalServerException("client disconnected prematurely"))
    assert (f.status, f.code, f.reason) == (499, errors.CLIENT_CLOSED_REQUEST, "client_gone")


def test_anything_else_is_a_logged_500_without_details(caplog):
    with caplog.at_level(logging.ERROR, logger="service.api"):
        f = classify(RuntimeError("secret path /etc/x"))
    assert (f.status, f.code.name, f.reason) == (500, "internal_error", None)
    assert "secret" not in f.message
    assert any(record.exc_info for record in caplog.records)
