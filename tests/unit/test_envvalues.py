"""service/envvalues.py: each parser takes what its docstring says and refuses the rest."""

from __future__ import annotations

import pytest

from service import envvalues


def test_numbers_in_range() -> None:
    assert envvalues.int_range(1, 10)(" 1_0 ") == 10
    assert envvalues.float_range(0, 1)("0.5") == 0.5
    assert envvalues.int_range(1, 10).__doc__ == "an integer between 1 and 10"
    for parse, bad in (
        (envvalues.int_range(1, 10), "11"),
        (envvalues.float_range(0, 1), "2"),
        (envvalues.int_range(1, 2), "x"),
    ):
        with pytest.raises(ValueError):
            parse(bad)
    assert envvalues.number(2592000.0) == "2592000" and envvalues.number(0.5) == "0.5"


def test_booleans_and_choices() -> None:
    assert envvalues.bool_value("TRUE") and envvalues.bool_value("1") and not envvalues.bool_value("off")
    assert not envvalues.bool_value("")
    with pytest.raises(ValueError):
        envvalues.bool_value("maybe")
    assert envvalues.choice("a", "b")(" B ") == "b"
    with pytest.raises(ValueError):
        envvalues.choice("a")("c")


def test_paths() -> None:
    assert envvalues.path(" data ") == "data"
    assert envvalues.optional_absolute_path(" ") == "" and envvalues.optional_absolute_path("/srv/img") == "/srv/img"
    for bad in ("relative/dir", "-1", "ftp://x"):
        with pytest.raises(ValueError):
            envvalues.optional_absolute_path(bad)
    with pytest.raises(ValueError):
        envvalues.path(" ")


def test_keys_origins_hosts_workers() -> None:
    assert envvalues.api_keys("k" * 16 + ",  ") == ("k" * 16,)
    with pytest.raises(ValueError):
        envvalues.api_keys("short")
    assert envvalues.origins("https://a.example.com/, *") == ("https://a.example.com", "*")
    with pytest.raises(ValueError):
        envvalues.origins("ftp://x")
    assert envvalues.host(" 0.0.0.0 ") == "0.0.0.0"
    assert envvalues.workers("3") == 3 and envvalues.workers("auto") >= 1


def test_urls_or_off() -> None:
    assert envvalues.url_or_off(" http://169.254.170.2/v4/abc/ ") == "http://169.254.170.2/v4/abc"
    assert envvalues.url_or_off("") == ""
    with pytest.raises(ValueError):
        envvalues.url_or_off("ftp://x")
