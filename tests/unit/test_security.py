"""The security edge's decisions, one function at a time (the HTTP behaviour is tested over real
HTTP in tests/api/test_api_reliability.py)."""

from __future__ import annotations

import pytest

from service.api.security import key_matches, needs_key, offered_key, same_origin
from service.settings import SettingsError, load_settings

KEYS = ("a" * 20, "b" * 24)


def scope(**headers: str) -> dict[str, object]:
    return {"headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_any_configured_key_matches_and_nothing_else() -> None:
    assert key_matches("a" * 20, KEYS) and key_matches("b" * 24, KEYS)
    assert not key_matches("a" * 19, KEYS) and not key_matches("", KEYS) and not key_matches("c" * 20, KEYS)


def test_the_key_comes_from_x_api_key_or_a_bearer_token() -> None:
    assert offered_key(scope(x_api_key=" k1 ")) == "k1"
    assert offered_key(scope(authorization="Bearer k2")) == "k2"
    assert offered_key(scope(authorization="Basic k3")) is None
    assert offered_key(scope()) is None


@pytest.mark.parametrize(
    ("path", "guarded"),
    [
        ("/api/convert", True),
        ("/api/jobs/x", True),
        ("/schema/openapi.json", True),
        ("/metrics", True),
        ("/health", False),
        ("/ready", False),
        ("/", False),
        ("/static/app.js", False),
    ],
)
def test_which_paths_need_a_key(path: str, guarded: bool) -> None:
    assert needs_key(path) is guarded


def test_same_origin_trusts_the_browser_then_compares_hosts() -> None:
    assert same_origin(scope(sec_fetch_site="same-origin"), "https://evil.example")
    assert not same_origin(scope(sec_fetch_site="cross-site", host="img.example"), "https://img.example")
    assert not same_origin(scope(sec_fetch_site="same-site"), "https://sub.img.example")
    # No Sec-Fetch-Site (older browsers): Origin's host against Host, scheme ignored (TLS ends upstream).
    assert same_origin(scope(host="img.example"), "https://img.example")
    assert same_origin(scope(host="internal:8000", x_forwarded_host="img.example"), "https://img.example")
    assert not same_origin(scope(host="img.example"), "https://evil.example")
    assert not same_origin(scope(host="img.example"), "null")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("API_KEYS", "short"),
        ("API_KEYS", "has a space in it here"),
        ("CORS_ORIGINS", "evil.example"),
        ("CORS_ORIGINS", "https://x.example/path"),
        ("METRICS_PORT", "70000"),
        ("JOB_WORKER_SHARE", "0"),
        ("MAX_HEADER_BYTES", "100"),
        ("CLIENT_HEADER_TIMEOUT_SECONDS", "0"),
    ],
)
def test_bad_values_stop_start_up(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_keys_and_origins_are_parsed_and_a_bad_key_is_never_echoed() -> None:
    settings = load_settings(
        {"API_KEYS": f"{'k' * 16}, {'m' * 16}", "CORS_ORIGINS": "https://a.example, http://b:8080/"}
    )
    assert settings.api_keys == ("k" * 16, "m" * 16)
    assert settings.cors_origins == ("https://a.example", "http://b:8080")
    with pytest.raises(SettingsError) as refused:
        load_settings({"API_KEYS": "secret-but-short"[:12]})
    assert "secret-but-s" not in str(refused.value)
