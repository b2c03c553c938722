"""Structured logs (service/logs.py): one JSON object per line on stderr, extra fields at the top
level, exceptions included, uvicorn's loggers through the same handler and its access log off."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from service.logs import JsonFormatter, uvicorn_log_config

ROOT = Path(__file__).parents[2]


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.getLogger("service.test").makeRecord("service.test", logging.WARNING, __file__, 1, msg, args, None)
    for key, val in extra.items():
        setattr(made, key, val)
    return made


def test_a_record_becomes_one_json_line_with_its_extra_fields_on_top() -> None:
    line = JsonFormatter().format(record("converted %s", "a.jpg", route="/api/convert", bytes_out=1234))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("ts").endswith("Z") and len(entry["level"]) > 0
    assert entry == {
        "level": "warning",
        "logger": "service.test",
        "msg": "converted a.jpg",
        "route": "/api/convert",
        "bytes_out": 1234,
    }


def test_values_json_cannot_hold_are_written_as_text_and_private_fields_are_left_out() -> None:
    entry = json.loads(JsonFormatter().format(record("x", path=Path("/tmp/a"), _internal=1)))
    assert entry["path"] == "/tmp/a" and "_internal" not in entry


def test_an_exception_is_in_the_same_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        made = logging.getLogger("t").makeRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(made))
    assert entry["msg"] == "failed" and "ValueError: broken" in entry["exc"]


def test_configure_logging_routes_every_logger_to_stderr_as_json() -> None:
    code = """
import logging
from service.logs import configure_logging
configure_logging("info")
logging.getLogger("service").info("hello", extra={"port": 8000})
logging.getLogger("uvicorn.error").info("from uvicorn")
logging.getLogger("uvicorn.access").info("an access line")
logging.getLogger("service").debug("below the level")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == ""
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(e["logger"], e["msg"]) for e in lines] == [("service", "hello"), ("uvicorn.error", "from uvicorn")]
    assert lines[0]["port"] == 8000 and lines[0]["level"] == "info"


def test_uvicorn_is_told_to_keep_the_handlers_we_set() -> None:
    assert uvicorn_log_config() == {"version": 1, "disable_existing_loggers": False}
