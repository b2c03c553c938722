"""Settings: the table declares each variable once; every variable parses its default, a bad value
stops start-up with a message naming it and its range, and the request limits come from it."""

from __future__ import annotations

import msgspec
import pytest

from service.imaging.tasks import Limits
from service.settings import VARIABLES, Settings, SettingsError, load_settings

# Between them these break every parser of the table: blank, not a number, out of any range, not a URL.
NOT_VALUES = (" ", "not-a-value", "-1", "1e30", "ftp://x")


def test_every_field_is_one_variable_named_after_it():
    fields = [f.name for f in msgspec.structs.fields(Settings)]
    assert [var.field for var in VARIABLES] == fields
    assert [var.name for var in VARIABLES] == [name.upper() for name in fields]
    for var in VARIABLES:
        assert var.description.endswith(".") and var.parse.__doc__, var.name


@pytest.mark.parametrize("var", VARIABLES, ids=lambda var: var.name)
def test_every_variable_parses_its_default_to_the_fields_default(var):
    """The default the docs show is the one the service uses (WORKERS=auto too: the usable CPUs)."""
    assert var.parse(var.default) == getattr(Settings(), var.field)
    assert getattr(load_settings({var.name: var.default}), var.field) == getattr(Settings(), var.field)


def test_defaults_are_the_documented_ones():
    settings = load_settings({})
    assert settings == Settings() == load_settings({var.name: var.default for var in VARIABLES})
    assert settings.port == 8000 and settings.workers >= 1 and settings.max_batch_outputs == 60
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
        ("JOB_TTL_SECONDS", "2592001", "a number between 1 and 2592000"),  # written out, not 2.592e+06
    ],
)
def test_a_bad_value_names_the_variable_what_it_accepts_and_what_it_got(name, raw, expected):
    with pytest.raises(SettingsError) as err:
        load_settings({name: raw})
    assert f"{name} must be {expected}, got {raw!r}" in str(err.value)


@pytest.mark.parametrize("var", VARIABLES, ids=lambda var: var.name)
def test_every_variable_refuses_a_bad_value_naming_itself_and_its_range(var):
    refused = 0
    for raw in NOT_VALUES:
        try:
            load_settings({var.name: raw})
        except SettingsError as err:
            refused += 1
            received = "a value that is not shown (secret)" if var.secret else repr(raw)
            assert str(err) == f"invalid configuration: {var.name} must be {var.parse.__doc__}, got {received}"
            if var.secret:
                assert raw not in str(err)
    assert refused, f"{var.name} accepts every one of {NOT_VALUES}"


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as err:
        load_settings({"PORT": "x", "LOG_LEVEL": "y"})
    assert "PORT" in str(err.value) and "LOG_LEVEL" in str(err.value)


def test_the_request_limits_are_the_settings():
    settings = load_settings(
        {
            "MAX_INPUT_PIXELS": "1000",
            "MAX_OUTPUT_PIXELS": "2000",
            "MAX_BATCH_OUTPUT_PIXELS": "3",
            "MAX_INPUT_DIMENSION": "400",
            "MAX_INPUT_ASPECT_RATIO": "7",
        }
    )
    assert settings.limits == Limits(
        max_input_pixels=1000,
        max_output_pixels=2000,
        max_batch_output_pixels=3,
        max_input_dimension=400,
        max_input_aspect_ratio=7,
    )
    defaults = Settings()
    assert Settings().limits == Limits(
        defaults.max_input_pixels,
        defaults.max_output_pixels,
        defaults.max_batch_output_pixels,
        defaults.max_input_dimension,
        defaults.max_input_aspect_ratio,
    )
    with pytest.raises(TypeError):
        Limits()  # type: ignore[call-arg]  # no defaults of its own: they are settings


def test_url_settings_are_read_and_checked():
    settings = load_settings(
        {
            "URL_SIGNING_KEY": "736563726574,aabb",
            "URL_SIGNING_SALT": "68656C6C6F,ccdd",
            "URL_PRESETS": "thumb=rs:fill:100:100",
            "SOURCE_DIR": "/srv/images",
            "URL_ALLOW_UNSIGNED": "false",
        }
    )
    assert settings.url_signing_key == ("736563726574", "aabb")
    assert settings.url_signing_salt == ("68656c6c6f", "ccdd")
    assert len(settings.signer.pairs) == 2 and not settings.signer.allow_unsigned
    assert settings.url_presets == ("thumb=rs:fill:100:100",) and settings.source_dir == "/srv/images"
    with pytest.raises(SettingsError, match=r"URL_SIGNING_KEY must be .*hex"):
        load_settings({"URL_SIGNING_KEY": "not-hex"})
    with pytest.raises(SettingsError, match="URL_PRESETS"):
        load_settings({"URL_PRESETS": "thumb=w:abc"})


def test_keys_and_salts_must_pair_up_at_start_up():
    settings = load_settings({"URL_SIGNING_KEY": "aabb,ccdd", "URL_SIGNING_SALT": "eeff"})
    with pytest.raises(SettingsError, match="URL_SIGNING_KEY and URL_SIGNING_SALT: 2 signing keys but 1 salts"):
        _ = settings.signer
