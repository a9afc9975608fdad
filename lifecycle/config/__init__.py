"""The rulebook from a versioned TOML file: SLA policies, business calendars, routing, scoring.

Read once at start (`--config FILE` or `LIFECYCLE_CONFIG`); without a file the built-in
defaults of the domain apply. The document is a tree of pydantic models (`RulebookFile`), one
per table, so a wrong file stops the service at start with messages naming each key
(`sla.first_attempt.business_hours: must be a positive number`) instead of producing odd
deadlines weeks later. Unknown keys are errors too: a typo must not silently fall back to a
default. Values are taken as written: `"4"` is not a number. `config/example.toml` documents
every key; `lifecycle config schema` prints the same models as a JSON Schema.

The `version` is recorded in the events whose deadlines, routing or score it computed.
Here: loading and the error messages; `tables` holds the models, `values` the value types.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, core_schema

from ..domain.rules import Rulebook
from .tables import RulebookFile, Table
from .values import kind_of

__all__ = [
    "ConfigError",
    "RulebookFile",
    "json_schema",
    "load_rulebook",
    "rulebook_from_mapping",
    "rulebook_from_toml",
]


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message begins with its key.

    `problems` lists every mistake found, `{"key": …, "message": …}`, the first leading.
    """

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [{"key": "", "message": message}]


def load_rulebook(path: Path) -> Rulebook:
    """The rulebook in the TOML file at `path`; `ConfigError` names the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration ({error.strerror})") from None
    try:
        return rulebook_from_toml(text)
    except ConfigError as error:
        raise ConfigError(f"{error} (in {path})", error.problems) from None


def rulebook_from_toml(text: str) -> Rulebook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}") from None
    return rulebook_from_mapping(data)


def rulebook_from_mapping(data: Mapping[str, Any]) -> Rulebook:
    """The rulebook for an already parsed document (top-level keys as in the TOML file)."""
    try:
        document = RulebookFile.model_validate(data)
    except ValidationError as error:
        problems = [_problem(detail) for detail in error.errors(include_url=False)]
        raise ConfigError("; ".join(p["message"] for p in problems), problems) from None
    return document.to_rulebook()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the TOML document (TOML has no null: optional keys are left out)."""
    from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue  # only for the schema

    class _TomlSchema(GenerateJsonSchema):
        """JSON Schema for a TOML document: TOML has no null, so an optional key is one left out."""

        def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
            return self.generate_inner(schema["schema"])

        def encode_default(self, dft: Any) -> Any:
            return _without_nulls(super().encode_default(dft))

        def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
            if schema.get("default") is None:
                return self.generate_inner(schema["schema"])
            return super().default_schema(schema)

    schema = RulebookFile.model_json_schema(schema_generator=_TomlSchema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# ---------------------------------------------------------------------------- messages
def _problem(detail: ErrorDetails) -> dict[str, str]:
    """One pydantic error as `{key, message}`, the message led by the dotted key."""
    loc = [part for part in detail["loc"] if part != "[key]"]
    context = detail.get("ctx", {})
    kind = detail["type"]
    if kind == "config":
        extra = context.get("_key", "")
        key = _dotted([*loc, extra] if extra else loc)
        return {"key": key, "message": f"{key}{context.get('_sep', ': ')}{detail['msg']}"}
    key = _dotted(loc)
    return {"key": key, "message": f"{key}: {_wording(detail, loc)}"}


def _wording(detail: ErrorDetails, loc: list[int | str]) -> str:
    kind, value, context = detail["type"], detail["input"], detail.get("ctx", {})
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        table = _table_at(loc[:-1])
        return table.unknown_key.format(known=table.known_keys()) if table else "unknown key"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, got {kind_of(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {kind_of(value)}"
    if kind == "greater_than_equal":
        return f"must be at least {context['ge']}, got {value!r}"
    return str(detail["msg"])


def _dotted(loc: list[int | str]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif str(part).startswith("["):
            key += str(part)
        else:
            key += f".{part}" if key else str(part)
    return key


def _table_at(loc: list[int | str]) -> type[Table] | None:
    """The model of the table at `loc` in the document, for the keys it knows."""
    node: Any = RulebookFile
    for part in loc:
        node = _unwrapped(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            node = field.annotation if field else None
        else:  # a list's item or a dict's value
            args = get_args(node)
            node = args[-1] if args else None
    node = _unwrapped(node)
    return node if isinstance(node, type) and issubclass(node, Table) else None


def _unwrapped(node: Any) -> Any:
    while get_origin(node) in (Annotated, Union, UnionType):
        node = next(arg for arg in get_args(node) if arg is not type(None))
    return node


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
