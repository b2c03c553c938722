"""service/imgurl/errors.py: each refusal of an /img URL names its registry code and its field."""

from __future__ import annotations

import pickle

from service import errors
from service.errors import ServiceError
from service.imgurl.errors import InvalidUrlOption, MalformedUrl, SignatureInvalid, UrlError, UrlExpired


def test_codes_statuses_and_fields() -> None:
    cases = [
        (SignatureInvalid(False), errors.SIGNATURE_INVALID, 403, "signature"),
        (UrlExpired(1), errors.URL_EXPIRED, 410, "expires"),
        (MalformedUrl("source", "x"), errors.INVALID_URL, 422, "source"),
        (InvalidUrlOption("w", "an integer", "x"), errors.INVALID_URL_OPTION, 422, "w"),
    ]
    for error, code, status, field in cases:
        assert isinstance(error, UrlError) and isinstance(error, ServiceError)
        assert (error.code, error.status, error.field) == (code, status, field)
        assert error.code.reason == "bad_input"


def test_a_url_option_has_its_own_code_not_the_form_options_400() -> None:
    assert errors.INVALID_URL_OPTION is not errors.INVALID_OPTION
    assert errors.INVALID_OPTION.status == 400 and InvalidUrlOption("w", "x", "y").status == 422


def test_messages_help_and_echo_boundedly() -> None:
    assert "unsigned URLs are off" in str(SignatureInvalid(False))
    assert "insecure" in str(SignatureInvalid(True))
    error = InvalidUrlOption("width", "an integer from 0 to 16383", "x" * 500)
    assert error.received is not None and len(error.received) < 150
    assert error.expected == "an integer from 0 to 16383"
    assert str(error).startswith("Expected an integer from 0 to 16383 for the URL option width")


def test_errors_survive_pickle() -> None:
    back = pickle.loads(pickle.dumps(InvalidUrlOption("w", "an integer", "x")))
    assert type(back) is InvalidUrlOption and back.code is errors.INVALID_URL_OPTION and back.received == "x"
