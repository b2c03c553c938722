"""The registry of error codes: each declared once, with a status that fits it, a known metric
reason, and the same object after a trip through pickle."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service import errors, metrics
from service.errors import CODES, REASONS, Code, ServiceError, client_codes, code_named


def test_every_code_is_declared_once_under_its_own_name():
    assert len(CODES) == len({code.name for code in CODES.values()})
    for name, code in CODES.items():
        assert code.name == name and code_named(name) is code
        assert getattr(errors, name.upper()) is code  # the module constant a raiser names


def test_a_code_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="declared twice"):
        errors._declare("invalid_option", 400, "again")


def test_statuses_reasons_and_retries_fit_their_codes():
    for code in CODES.values():
        assert 400 <= code.status < 600, code
        assert code.reason is None or code.reason in REASONS, code
        assert code.meaning and "\n" not in code.meaning, code
        if code.retry_after is not None:
            assert code.status == 503, code  # only "try again shortly" answers carry Retry-After
    # Client faults are counted as rejections, except a path or method that simply does not exist
    # and a job archive asked for before the job finished.
    uncounted = {c.name for c in CODES.values() if c.status < 500 and c.reason is None}
    assert uncounted == {
        "headers_too_large",
        "not_found",
        "method_not_allowed",
        "job_not_found",
        "output_not_found",
        "source_not_found",
        "job_not_finished",
    }


def test_the_metric_exports_every_reason_the_codes_use():
    assert set(metrics.REJECTION_REASONS) == set(REASONS) == {c.reason for c in CODES.values() if c.reason}


def test_only_the_answer_nobody_reads_is_left_out_of_the_client_codes():
    assert set(CODES.values()) - set(client_codes()) == {errors.CLIENT_CLOSED_REQUEST}


class Refused(ServiceError):
    code = errors.TOO_MANY_JOBS

    def __init__(self, limit: int) -> None:  # not the base's signature: pickle must not call it
        super().__init__(f"{limit} jobs", field="x")


def test_codes_and_errors_survive_pickle():
    assert pickle.loads(pickle.dumps(errors.OVERLOADED)) is errors.OVERLOADED
    error = Refused(3)
    assert (error.status, error.retry_after, error.field, str(error)) == (503, 10, "x", "3 jobs")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is Refused and back.__dict__ == error.__dict__ and str(back) == "3 jobs"
    assert back.code is errors.TOO_MANY_JOBS


def test_an_instance_may_say_when_to_retry():
    assert ServiceError("x", retry_after=7).retry_after == 7
    assert isinstance(ServiceError("x").code, Code)


WEB = Path(__file__).resolve().parents[2] / "service" / "web"


def _ui_error_table() -> dict[str, list[str]]:
    """common.js's ERROR_TEXT: each code the page words, with the i18n keys its entry can pick."""
    source = (WEB / "common.js").read_text()
    block = re.search(r"^const ERROR_TEXT = \{\n(.*?)^\};", source, re.S | re.M)
    assert block, "common.js has no ERROR_TEXT table"
    entries = re.findall(r"^  (\w+): (.*),$", block.group(1), re.M)
    assert len(entries) == block.group(1).count("\n"), "one entry per line"
    return {code: re.findall(r'"(\w+\.[\w.]+)"', value) for code, value in entries}


def test_the_ui_words_exactly_the_codes_a_client_reads():
    table = _ui_error_table()
    assert set(table) == {code.name for code in client_codes()}
    # The rest of the page's error handling names no code of its own beyond the table's.
    source = (WEB / "common.js").read_text()
    compared = set(re.findall(r'code === "(\w+)"', source))
    assert compared <= set(table), compared - set(table)


def test_every_message_the_ui_picks_exists_in_both_languages():
    i18n = (WEB / "i18n.js").read_text()
    korean, english = i18n.split("\n  en: {", 1)
    for code, keys in _ui_error_table().items():
        assert keys, code
        for key in keys:
            assert f'"{key}":' in korean and f'"{key}":' in english, (code, key)


def test_the_registry_is_web_free_so_workers_can_raise_its_errors():
    probe = (
        "import sys, service.errors, service.imaging.errors\n"
        "web = sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'prometheus_client', 'uvicorn'))\n"
        "print(','.join(web))"
    )
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == ""
