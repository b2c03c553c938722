"""Settings: every variable parsed once, a bad value stops start-up with a message naming it."""

from __future__ import annotations

import pytest

from service.settings import VARIABLES, SettingsError, load_settings


def test_defaults_are_the_documented_ones():
    settings = load_settings({})
    for var in VARIABLES:
        if var.name != "WORKERS":  # auto depends on the machine
            assert getattr(settings, var.field) == var.parse(var.default), var.name
    assert settings.workers >= 1
    assert settings.max_waiting == settings.workers * settings.queue_per_worker


def test_values_are_read_and_typed():
    s = load_settings(
        {
            "PORT": "9000",
            "WORKERS": "3",
            "REQUEST_DEADLINE_SECONDS": "2.5",
            "LOG_LEVEL": "DEBUG",
            "MAX_OUTPUT_DIMENSION": "4000",
        }
    )
    assert (s.port, s.workers, s.request_deadline_seconds, s.log_level, s.max_output_dimension) == (
        9000,
        3,
        2.5,
        "debug",
        4000,
    )


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("PORT", "0", "an integer between 1 and 65535"),
        ("PORT", "http", "an integer between 1 and 65535"),
        ("WORKERS", "many", "auto or an integer between 1 and 256"),
        ("REQUEST_DEADLINE_SECONDS", "0", "a number between 0.1 and 3600"),
        ("MAX_OUTPUT_DIMENSION", "20000", "an integer between 16 and 16383"),
        ("LOG_LEVEL", "loud", "one of debug, info, warning, error"),
        ("HOST", " ", "a host name or address"),
    ],
)
def test_a_bad_value_names_the_variable_what_it_accepts_and_what_it_got(name, raw, expected):
    with pytest.raises(SettingsError) as err:
        load_settings({name: raw})
    assert f"{name} must be {expected}, got {raw!r}" in str(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as err:
        load_settings({"PORT": "x", "LOG_LEVEL": "y"})
    assert "PORT" in str(err.value) and "LOG_LEVEL" in str(err.value)
