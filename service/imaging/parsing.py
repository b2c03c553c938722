"""From strings (query parameters, form fields) to validated options: the one place a string
becomes a value, with errors that name the field, what is allowed and what was received.

Ranges and choices come from the option table (`options.py`); nothing here repeats them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import msgspec

from .domains import MAX_DIMENSION, Domain, Value
from .errors import Allowed, OptionError
from .formats import OutputFormat
from .options import AUTO_CANDIDATES, CONVERT_OPTIONS, OPTION_BY_NAME, ConvertOptions

__all__ = [
    "parse_format",
    "parse_format_list",
    "parse_int",
    "parse_int_list",
    "parse_list",
    "parse_options",
    "parse_value",
]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# ASCII only: int() and float() would also take '٣٠٠', '１００' and '3_00'.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")  # longer is out of every range (and int() refuses >4300 digits)
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})")
_BLANKS = " \t\r\n"


def parse_int(text: str) -> int | None:
    """An integer written with ASCII digits (and an optional sign), else None."""
    text = text.strip(_BLANKS)
    return int(text) if _INTEGER.fullmatch(text) else None


def _outside(name: str, domain: Domain, raw: str, max_dimension: int) -> OptionError:
    return OptionError(name, domain.describe(max_dimension), raw, domain.allowed(max_dimension))


def parse_value(name: str, domain: Domain, raw: str, max_dimension: int = MAX_DIMENSION) -> Value:
    """The one place a string becomes a value of a domain: type, then range or choices, once."""
    text = raw.strip(_BLANKS)
    lowered = text.lower()
    if domain.kind == "bool":
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise _outside(name, domain, raw, max_dimension)
    if domain.kind == "choice":
        if lowered not in domain.choices:
            raise _outside(name, domain, raw, max_dimension)
        return lowered
    number: int | float
    if domain.kind == "int" and _INTEGER.fullmatch(text):
        number = int(text)
    elif domain.kind == "number" and _NUMBER.fullmatch(text):
        number = float(text)
    else:
        raise _outside(name, domain, raw, max_dimension)
    lo, hi = domain.minimum, domain.upper(max_dimension)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise _outside(name, domain, raw, max_dimension)
    if domain.choices and str(number) not in domain.choices:
        raise _outside(name, domain, raw, max_dimension)
    return number


def parse_format(raw: str) -> str:
    return str(parse_value("format", OPTION_BY_NAME["format"].domains[0], raw))


def parse_options(
    params: Mapping[str, str],
    *,
    formats: Iterable[OutputFormat] | None = None,
    extra: Iterable[str] = (),
    accepted: Iterable[str] = (),
    max_dimension: int = MAX_DIMENSION,
) -> ConvertOptions:
    """Validate string parameters into ConvertOptions.

    `formats` are the output formats the options must suit (a batch may have several); when None
    they come from the `format` parameter ("auto" means any). `extra` names parameters the caller
    handles itself (batch lists), so they are not reported as unknown.
    """
    known = {spec.name for spec in CONVERT_OPTIONS} | set(extra)
    for name in params:
        if name not in known:
            known_names = tuple(sorted(spec.name for spec in CONVERT_OPTIONS))
            raise OptionError(
                name, f"a known option ({', '.join(known_names)})", params[name], Allowed("option", choices=known_names)
            )

    values: dict[str, object] = {}
    fmt = parse_format(params["format"]) if "format" in params else "jpeg"
    values["format"] = fmt
    if formats is None:
        targets = AUTO_CANDIDATES if fmt == "auto" else frozenset({OutputFormat(fmt)})
    else:
        targets = frozenset(formats)

    for name, raw in params.items():
        spec = OPTION_BY_NAME.get(name)
        if spec is None or name == "format" or not spec.in_convert_options:
            continue
        domains = {d for f in targets if (d := spec.domain_for(f)) is not None}
        if not domains:
            wanted = ", ".join(sorted(f.value for f in spec.formats))
            chosen = ", ".join(sorted(f.value for f in targets))
            applies = tuple(f.value for f in OutputFormat if f in spec.formats)
            raise OptionError(
                name,
                f"no {name} with format {chosen} (it applies to {wanted})",
                raw,
                Allowed("requires", option="format", choices=applies),
            )
        # One value must be valid for every targeted format that uses the option.
        parsed = [parse_value(name, d, raw, max_dimension) for d in sorted(domains, key=_domain_order)]
        values[name] = parsed[0]
    values["accepted"] = tuple(accepted)
    return msgspec.convert(values, ConvertOptions)


def _domain_order(domain: Domain) -> tuple[str, ...]:
    return tuple(sorted(f.value for f in domain.formats))


def parse_list(name: str, raw_values: Iterable[str], *, max_dimension: int = MAX_DIMENSION) -> tuple[Value, ...]:
    """A repeated option (`widths=320,800` or `widths=320&widths=800`): every item checked by the
    option's domain, duplicates dropped in order. Empty items are ignored."""
    spec = OPTION_BY_NAME[name]
    domain = spec.domains[0]
    items: list[Value] = []
    for raw in raw_values:
        for part in raw.split(","):
            if part.strip(_BLANKS):
                items.append(parse_value(name, domain, part, max_dimension))
    return tuple(dict.fromkeys(items))


def parse_int_list(name: str, raw_values: Iterable[str], *, max_dimension: int = MAX_DIMENSION) -> tuple[int, ...]:
    """`widths` or `qualities` as integers, each checked by the option's domain (see parse_list)."""
    return tuple(int(v) for v in parse_list(name, raw_values, max_dimension=max_dimension))


def parse_format_list(raw_values: Iterable[str]) -> tuple[OutputFormat, ...]:
    """`formats` as OutputFormats (see parse_list)."""
    return tuple(OutputFormat(str(v)) for v in parse_list("formats", raw_values))
