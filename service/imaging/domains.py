"""What an option accepts: a `Domain` per set of output formats, grouped into an `OptionSpec`.

The vocabulary the option table (`options.py`) is written in: kinds of value, ranges, choices, the
API default and the UI's preselection, and the libvips saver parameter a value becomes. No web or
libvips imports: it runs in the server and in the workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from .errors import Allowed
from .formats import OutputFormat

__all__ = [
    "IN_ALL",
    "MAX_DIMENSION",
    "UNSET",
    "Condition",
    "Domain",
    "Group",
    "Kind",
    "OptionSpec",
    "Value",
    "bool_domain",
    "choice_domain",
    "int_domain",
]

Kind = Literal["int", "number", "bool", "choice"]
Group = Literal["geometry", "output", "encoder", "batch"]
Value = bool | int | float | str
Condition = Mapping[str, tuple[Value, ...]]

MAX_DIMENSION = 16383  # WebP's limit; the configured MAX_OUTPUT_DIMENSION may only lower it

IN_ALL = frozenset(OutputFormat)
IN_JPEG, IN_PNG, IN_WEBP, IN_AVIF, IN_TIFF = (frozenset({f}) for f in OutputFormat)


def _text(value: Value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class _Unset(Enum):
    """Marks a UI default that is the API default (None is a real value: "preselect nothing")."""

    UNSET = 0


UNSET = _Unset.UNSET


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one object per declaration
class Domain:
    """What one option accepts for a set of formats, and what it becomes there."""

    kind: Kind
    formats: frozenset[OutputFormat] = IN_ALL
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str, ...] = ()
    default: Value | None = None  # what the API uses when the option is omitted (None: nothing is sent)
    ui: Value | _Unset | None = UNSET  # what the browser preselects, when it differs from `default`
    param: str | None = None  # the libvips saver parameter, None when a rule or the planner uses it
    to_vips: Mapping[Value, Value] | None = None  # our value -> libvips' value, when they differ
    dimension: bool = False  # bounded by the configured MAX_OUTPUT_DIMENSION too
    # When the option means something: any one of these conditions, each "every named option has one
    # of these values" (an omitted option counts as its default). Empty: always. For the UI, which
    # shows and sends only options that apply; the API accepts them regardless.
    when: tuple[Condition, ...] = ()

    @property
    def ui_default(self) -> Value | None:
        return self.default if isinstance(self.ui, _Unset) else self.ui

    def upper(self, max_dimension: int = MAX_DIMENSION) -> int | float | None:
        if self.dimension and self.maximum is not None:
            return min(self.maximum, max_dimension)
        return self.maximum

    def describe(self, max_dimension: int = MAX_DIMENSION) -> str:
        if self.kind == "bool":
            return "a boolean (true/false)"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "int":
            return f"an integer between {self.minimum} and {self.upper(max_dimension)}"
        return f"a number between {self.minimum:g} and {self.upper(max_dimension):g}"

    def allowed(self, max_dimension: int = MAX_DIMENSION) -> Allowed:
        """What `describe` says, as data (an option error's `allowed`)."""
        if self.kind == "bool":
            return Allowed("boolean")
        if self.kind == "choice":
            return Allowed("choice", choices=self.choices)
        if self.kind == "int":
            if self.choices:
                return Allowed("integer", choices=tuple(int(c) for c in self.choices))
            return Allowed("integer", minimum=self.minimum, maximum=self.upper(max_dimension))
        if self.choices:
            return Allowed("number", choices=tuple(float(c) for c in self.choices))
        return Allowed("number", minimum=self.minimum, maximum=self.upper(max_dimension))

    def describe_when(self) -> str:
        """The conditions as text, e.g. "when lossless=false or near_lossless=true"; "" when none."""
        alternatives = [
            " and ".join(f"{name}={'/'.join(_text(v) for v in values)}" for name, values in condition.items())
            for condition in self.when
        ]
        return "when " + " or ".join(alternatives) if alternatives else ""

    def vips_value(self, value: Value) -> Value:
        return value if self.to_vips is None else self.to_vips[value]


@dataclass(frozen=True)
class OptionSpec:
    name: str
    group: Group
    description: str
    domains: tuple[Domain, ...]
    seed_name: str | None = None  # the field name on the original service's routes, when it had one
    repeated: bool = False  # a list: comma separated or the parameter repeated (batch)
    domain_by_format: dict[OutputFormat, Domain] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_format: dict[OutputFormat, Domain] = {}
        for domain in self.domains:
            for fmt in domain.formats:
                if fmt in by_format:
                    raise ValueError(f"option {self.name}: two domains for {fmt.value}")
                by_format[fmt] = domain
        object.__setattr__(self, "domain_by_format", by_format)

    @property
    def formats(self) -> frozenset[OutputFormat]:
        return frozenset(self.domain_by_format)

    def domain_for(self, fmt: OutputFormat) -> Domain | None:
        return self.domain_by_format.get(fmt)

    @property
    def in_convert_options(self) -> bool:
        return self.group != "batch"


def int_domain(
    lo: int,
    hi: int,
    formats: frozenset[OutputFormat] = IN_ALL,
    *,
    default: int | None = None,
    param: str | None = None,
    ui: int | _Unset | None = UNSET,
    choices: tuple[str, ...] = (),
    dimension: bool = False,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("int", formats, lo, hi, choices, default, ui, param, dimension=dimension, when=when)


def bool_domain(
    formats: frozenset[OutputFormat] = IN_ALL,
    *,
    default: bool | None = False,
    param: str | None = None,
    ui: bool | _Unset | None = UNSET,
    to_vips: Mapping[Value, Value] | None = None,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("bool", formats, default=default, ui=ui, param=param, to_vips=to_vips, when=when)


def choice_domain(
    choices: tuple[str, ...],
    formats: frozenset[OutputFormat] = IN_ALL,
    *,
    default: str | None = None,
    param: str | None = None,
    ui: str | _Unset | None = UNSET,
    to_vips: Mapping[Value, Value] | None = None,
    when: tuple[Condition, ...] = (),
) -> Domain:
    return Domain("choice", formats, choices=choices, default=default, ui=ui, param=param, to_vips=to_vips, when=when)
