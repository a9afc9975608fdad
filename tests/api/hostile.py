"""Hostile input for every field of the API, shared by the sweep and the fuzz.

Each value has a `kind`, which says where it must be refused:

- "poison" (NUL, other control characters, invisible format characters, line separators):
  refused by every field, as a `validation_error` naming it (docs/activities.md, Values);
- "time" (out of 1900–2200, naive, not a date), "number" (huge, tiny, not finite) and
  "lookalike" (fullwidth letters and digits): refused by every field that takes a time, a
  number outside its bounds, a boolean or one of a set of values; plain text may take them;
- "odd" (a lone surrogate, tabs and line ends, empty, blank, 10,000 characters…): never
  required to be refused, only never a 500.

`must_refuse` reads a field's OpenAPI schema to tell, so a new field is judged by what it
declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

_NO_JSON = object()


@dataclass(frozen=True)
class Hostile:
    label: str
    kind: str
    text: str  # in a path or a query string, and as a JSON string
    number: Any = _NO_JSON  # in a JSON body, a JSON number instead of the text

    @property
    def json(self) -> Any:
        return self.text if self.number is _NO_JSON else self.number


def _values() -> list[Hostile]:
    poison = {
        "NUL": "a\u0000b",
        "NUL alone": "\u0000",
        "escape": "\u001b[31mred",
        "delete": "a\u007fb",
        "next line (C1)": "a\u0085b",
        "CSI (C1)": "\u009b1m",
        "zero-width space": "a\u200bb",
        "zero-width joiner": "a\u200db",
        "line separator": "a\u2028b",
        "paragraph separator": "a\u2029b",
        "byte-order mark": "\ufeffab",
        "right-to-left override": "a\u202eb",
        "soft hyphen": "a\u00adb",
    }
    times = {
        "year 1 at +14:00": "0001-01-01T00:00:00+14:00",
        "year 9999 at -14:00": "9999-12-31T23:59:59-14:00",
        "naive": "2026-03-02T09:00:00",
        "naive date": "2026-03-02",
        "before 1900": "1899-12-31T23:59:59Z",
        "2200": "2200-01-01T00:00:00Z",
        "30 February": "2026-02-30T00:00:00Z",
        "offset +24:00": "2026-03-02T09:00:00+24:00",
        "year 10000": "+10000-01-01T00:00:00Z",
    }
    numbers = {
        "1e308": ("1e308", 1e308),
        "2**70": (str(2**70), 2**70),
        "-2**70": (str(-(2**70)), -(2**70)),
        "2**63": (str(2**63), 2**63),
        "smallest float": ("5e-324", 5e-324),
        "minus zero": ("-0", -0.0),
        "1e309": ("1e309", _NO_JSON),
        "1e-400": ("1e-400", _NO_JSON),
        "NaN": ("NaN", _NO_JSON),
        "Infinity": ("Infinity", _NO_JSON),
        "-Infinity": ("-Infinity", _NO_JSON),
    }
    lookalikes = {"fullwidth letters": "ＡＢＣ", "fullwidth digits": "１２３"}
    odd = {
        "lone surrogate": "a\ud800b",
        "tab": "a\tb",
        "line feed": "a\nb",
        "CR LF": "a\r\nb",
        "empty": "",
        "blank": "   ",
        "10,000 characters": "x" * 10_000,
        "percent-encoded NUL as text": "%00",
        "quote": "' OR '1'='1",
    }
    return [
        *(Hostile(label, "poison", text) for label, text in poison.items()),
        *(Hostile(label, "time", text) for label, text in times.items()),
        *(Hostile(label, "number", text, number) for label, (text, number) in numbers.items()),
        *(Hostile(label, "lookalike", text) for label, text in lookalikes.items()),
        *(Hostile(label, "odd", text) for label, text in odd.items()),
    ]


VALUES = _values()
# Characters to splice into otherwise valid text (the fuzz's injections).
POISON_CHARACTERS = "\u0000\u0001\u001b\u007f\u0085\u009b\u00ad\u200b\u200d\u2028\u2029\u202e\ufeff"
LOOKALIKES = "ＡＢＣａｂｃ１２３＠．"
EXTREME_TIMES = [v.text for v in VALUES if v.kind == "time"]
EXTREME_NUMBERS = [v.json for v in VALUES if v.kind == "number"]


def encoded(text: str) -> str:
    """`text` percent-encoded for a path segment or a query value (a lone surrogate as the
    invalid UTF-8 a careless client sends)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


# ----------------------------------------------------------------------- what a field takes
def branches(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a field's schema, `$ref`s resolved."""
    found = []
    for option in schema.get("anyOf", [schema]):
        while "$ref" in option:
            option = components[option["$ref"].rsplit("/", 1)[-1]]
        if option.get("type") != "null":
            found.append(option)
    return found


def must_refuse(value: Hostile, schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """Whether a field of this schema must answer `value` with a `validation_error`."""
    if value.kind == "poison":
        return True
    if value.kind == "odd":
        return False
    options = branches(schema, components)
    numeric = [o for o in options if o.get("type") in ("integer", "number")]
    if numeric:
        return not any(_within(value.text, o) for o in numeric)
    for option in options:
        if option.get("type") == "string" and not ({"format", "enum", "const"} & set(option)):
            return False  # plain text takes times, numbers and fullwidth letters
        if option.get("format") == "email":
            return False  # an address may be anything of these; email-validator judges it
    return True  # a time, a boolean, one of an enum or a constant


def _within(text: str, option: dict[str, Any]) -> bool:
    """Whether `text` is a number within the option's bounds, read as Decimal reads it (as
    pydantic's Decimal fields do: fullwidth digits are digits)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return False
    if not number.is_finite():
        return False
    if option.get("type") == "integer" and number != number.to_integral_value():
        return False
    low, high = option.get("minimum"), option.get("maximum")
    above, below = option.get("exclusiveMinimum"), option.get("exclusiveMaximum")
    return not (
        (low is not None and number < Decimal(str(low)))
        or (high is not None and number > Decimal(str(high)))
        or (above is not None and number <= Decimal(str(above)))
        or (below is not None and number >= Decimal(str(below)))
    )


def sample(schema: dict[str, Any], components: dict[str, Any], moment: str) -> Any:
    """A valid value for a field of this schema (`moment` for a time)."""
    option = branches(schema, components)[0]
    if "const" in option:
        return option["const"]
    if "enum" in option:
        return option["enum"][0]
    kind = option.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = option.get("minimum", option.get("exclusiveMinimum", 0))
        return max(1, int(low) + 1)
    if option.get("format") == "date-time":
        return moment
    if option.get("format") == "email":
        return "sample@example.com"
    return "x" * max(1, option.get("minLength", 1))
