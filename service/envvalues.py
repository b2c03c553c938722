"""The values an environment variable may hold, each parser raising ValueError when a value is not
one of them. Each parser's docstring says what it accepts: the settings table (settings.py) repeats
it in its errors, the README and docs/contract.md. No web imports."""

from __future__ import annotations

import re
from collections.abc import Callable

from .cpu import usable_cpus

__all__ = [
    "api_keys",
    "bool_value",
    "choice",
    "float_range",
    "host",
    "int_range",
    "number",
    "optional_absolute_path",
    "origins",
    "path",
    "url_or_off",
    "workers",
]


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip().replace("_", ""))
        if not lo <= value <= hi:
            raise ValueError(f"an integer between {lo} and {hi}")
        return value

    parse.__doc__ = f"an integer between {lo} and {hi}"
    return parse


def workers(raw: str) -> int:
    if raw.strip().lower() == "auto":
        return usable_cpus()
    return int_range(1, 256)(raw)


workers.__doc__ = "auto or an integer between 1 and 256"


def choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value

    parse.__doc__ = "one of " + ", ".join(choices)
    return parse


def host(raw: str) -> str:
    if not raw.strip():
        raise ValueError("a host name or address")
    return raw.strip()


host.__doc__ = "a host name or address"


def path(raw: str) -> str:
    if not raw.strip():
        raise ValueError("a directory path")
    return raw.strip()


path.__doc__ = "a directory path"


def api_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for key in keys:
        if len(key) < 16 or not key.isascii() or not key.isprintable() or " " in key:
            raise ValueError("comma-separated keys of at least 16 printable ASCII characters")
    return keys


api_keys.__doc__ = "empty (off) or comma-separated keys of at least 16 printable ASCII characters"


def origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
            raise ValueError("comma-separated origins like https://app.example.com, or *")
    return origins


origins.__doc__ = "empty (same origin only), * or comma-separated origins like https://app.example.com"


def bool_value(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise ValueError("true or false")


bool_value.__doc__ = "true or false"


def optional_absolute_path(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith("/"):
        raise ValueError("empty (off) or an absolute directory path")
    return value


optional_absolute_path.__doc__ = "empty (off) or an absolute directory path"


def url_or_off(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("empty or an http:// URL")
    return value


url_or_off.__doc__ = "empty or an http:// URL"


def number(value: float) -> str:
    """25.0 as 25 and 2592000.0 as 2592000 (not 2.592e+06): how a person writes the variable."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def float_range(lo: float, hi: float) -> Callable[[str], float]:
    expects = f"a number between {number(lo)} and {number(hi)}"

    def parse(raw: str) -> float:
        value = float(raw)
        if not lo <= value <= hi:
            raise ValueError(expects)
        return value

    parse.__doc__ = expects
    return parse
