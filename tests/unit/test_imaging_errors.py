"""The imaging layer's errors: codes from the registry, `allowed` as data, bounded echoes, and every
attribute kept across the process boundary."""

from __future__ import annotations

import pickle

import msgspec
import pytest
import pyvips

from service import errors
from service.imaging.domains import bool_domain, choice_domain, int_domain
from service.imaging.errors import Allowed, ImageError, OptionError, TargetUnreachable, echo, vips_reason


def test_an_image_error_answers_the_code_it_was_given():
    error = ImageError(errors.UNPROCESSABLE, "corrupt", "image")
    assert (error.code, error.status, error.retry_after, error.field, str(error)) == (
        errors.UNPROCESSABLE,
        422,
        None,
        "image",
        "corrupt",
    )
    assert ImageError(errors.DEADLINE, "late").retry_after == 1


def test_an_option_error_says_what_is_allowed_in_words_and_as_data():
    allowed = Allowed("integer", minimum=1, maximum=100)
    error = OptionError("quality", "an integer between 1 and 100", 101, allowed)
    assert (error.code, error.field, error.received, error.allowed) == (
        errors.INVALID_OPTION,
        "quality",
        "101",
        allowed,
    )
    assert error.message == "Expected an integer between 1 and 100 for quality but received '101'"
    assert error.expected == "an integer between 1 and 100"  # the words, for a caller that rewords the refusal
    assert msgspec.to_builtins(allowed) == {"type": "integer", "minimum": 1, "maximum": 100}


def test_allowed_is_built_from_the_options_domain():
    assert int_domain(1, 16383, dimension=True).allowed(4000) == Allowed("integer", minimum=1, maximum=4000)
    assert int_domain(8, 12, choices=("8", "10", "12")).allowed() == Allowed("integer", choices=(8, 10, 12))
    assert bool_domain().allowed() == Allowed("boolean")
    assert choice_domain(("a", "b")).allowed() == Allowed("choice", choices=("a", "b"))


@pytest.mark.parametrize(
    "error",
    [
        OptionError("w" * 500, "an integer", "٣" * 500, Allowed("integer", minimum=1, maximum=9)),
        ImageError(errors.DEADLINE, "late"),
        TargetUnreachable(errors.MAX_BYTES_UNREACHABLE, "too big", "max_bytes", 4, "webp"),
    ],
)
def test_errors_survive_the_process_boundary_unchanged(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and back.__dict__ == error.__dict__ and str(back) == str(error)
    assert back.code is error.code


def test_client_values_are_cut_in_the_error():
    error = OptionError("x" * 500, "an integer", "9" * 500, Allowed("integer"))
    assert len(error.field or "") < 150 and len(error.received) < 150 and len(error.message) < 400


def test_echo_cuts_long_values():
    assert echo("short") == "short"
    assert echo("x" * 150) == "x" * 100 + "... (150 characters)"
    assert echo(b"\xff") == "b'\\xff'"


def test_vips_reason_is_the_first_line_of_a_libvips_error():
    with pytest.raises(pyvips.Error) as err:
        pyvips.Image.new_from_buffer(b"not an image", "")
    reason = vips_reason(err.value)
    assert reason and "\n" not in reason
    assert vips_reason(ValueError("")) == "libvips error"
