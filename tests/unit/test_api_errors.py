"""Error classification: every failure the code raises maps to one status, code and metric reason."""

from __future__ import annotations

import pickle

import pytest
from litestar.exceptions import ClientException, HTTPException, NotFoundException

from service.api.disconnect import ClientGone
from service.api.errors import classify
from service.imaging.errors import ErrorKind, ImageError, OptionError, echo
from service.pool import DeadlineExceeded, Overloaded, PoolClosed, PoolError, WorkerCrashed


def test_option_error_names_field_allowed_and_received():
    f = classify(OptionError("quality", "an integer between 1 and 100", "101"))
    assert (f.status, f.code, f.reason, f.field, f.allowed, f.received) == (
        400,
        "invalid_option",
        "bad_input",
        "quality",
        "an integer between 1 and 100",
        "101",
    )
    assert f.message == "Expected an integer between 1 and 100 for quality but received '101'"


@pytest.mark.parametrize(
    ("kind", "status", "reason", "retry"),
    [
        (ErrorKind.INVALID_OPTION, 400, "bad_input", None),
        (ErrorKind.UNSUPPORTED_MEDIA, 415, "bad_input", None),
        (ErrorKind.UNPROCESSABLE, 422, "bad_input", None),
        (ErrorKind.TOO_LARGE, 413, "too_large", None),
        (ErrorKind.DEADLINE, 503, "deadline", 1),
    ],
)
def test_image_error_kinds(kind, status, reason, retry):
    f = classify(ImageError(kind, "why", "image"))
    assert (f.status, f.code, f.reason, f.retry_after, f.field) == (status, kind.value, reason, retry, "image")


@pytest.mark.parametrize(
    ("exc", "status", "code", "reason", "retry"),
    [
        (Overloaded(3), 503, "overloaded", "overload", 3),
        (DeadlineExceeded(started=True), 504, "deadline_exceeded", "deadline", None),
        (DeadlineExceeded(started=False), 503, "deadline_exceeded", "deadline", 1),
        (WorkerCrashed(), 503, "worker_crashed", "worker_crash", 1),
        (PoolClosed(), 503, "shutting_down", "shutdown", 1),
        (PoolError("other"), 503, "unavailable", "overload", 1),
        (ClientGone(), 499, "client_closed_request", "client_gone", None),
    ],
)
def test_pool_and_connection_failures(exc, status, code, reason, retry):
    f = classify(exc)
    assert (f.status, f.code, f.reason, f.retry_after) == (status, code, reason, retry)


def test_framework_errors_keep_their_status():
    assert (classify(NotFoundException()).status, classify(NotFoundException()).reason) == (404, None)
    bad = classify(ClientException("Invalid multipart/form-data: Malformed segment header"))
    assert (bad.status, bad.code, bad.reason) == (400, "bad_request", "bad_input")
    assert "Malformed" in bad.message
    big = classify(HTTPException(status_code=413))
    assert (big.status, big.reason, big.field) == (413, "too_large", "image")
    assert "MAX_UPLOAD_BYTES" in big.message


def test_anything_else_is_a_logged_500_without_details():
    f = classify(RuntimeError("secret path /etc/x"))
    assert (f.status, f.code, f.reason) == (500, "internal_error", None)
    assert "secret" not in f.message


def test_errors_survive_the_process_boundary_unchanged():
    for error in (OptionError("w" * 500, "an integer", "٣" * 500), ImageError(ErrorKind.DEADLINE, "late")):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and back.__dict__ == error.__dict__ and str(back) == str(error)


def test_echo_cuts_long_values():
    assert echo("short") == "short"
    assert echo("x" * 150) == "x" * 100 + "... (150 characters)"
    assert echo(b"\xff") == "b'\\xff'"
