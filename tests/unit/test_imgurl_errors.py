"""service/imgurl/errors.py: each refusal of an /img URL carries its status, code and field."""

from __future__ import annotations

from service.imgurl.errors import InvalidUrlOption, MalformedUrl, SignatureInvalid, UrlError, UrlExpired


def test_statuses_and_codes() -> None:
    cases = [
        (SignatureInvalid(False), 403, "signature_invalid", "signature"),
        (UrlExpired(1), 410, "url_expired", "expires"),
        (MalformedUrl("source", "x"), 422, "invalid_url", "source"),
        (InvalidUrlOption("w", "an integer", "x"), 422, "invalid_option", "w"),
    ]
    for error, status, code, field in cases:
        assert isinstance(error, UrlError)
        assert (error.status, error.code, error.field) == (status, code, field)


def test_messages_help_and_echo_boundedly() -> None:
    assert "unsigned URLs are off" in str(SignatureInvalid(False))
    assert "insecure" in str(SignatureInvalid(True))
    error = InvalidUrlOption("width", "an integer from 0 to 16383", "x" * 500)
    assert error.received is not None and len(error.received) < 150
    assert str(error).startswith("Expected an integer from 0 to 16383 for the URL option width")
