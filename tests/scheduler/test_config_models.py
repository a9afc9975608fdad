"""The rulebook models: the example round-trips, mistakes name their key, the schema agrees.

`test_config.py` checks what the rules mean; this file checks the TOML document itself: its
pydantic models (`lifecycle.config`), the JSON Schema printed by `lifecycle config schema`,
and `lifecycle config check`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lifecycle.bootstrap import main
from lifecycle.config import ConfigError, RulebookFile, json_schema, rulebook_from_mapping
from lifecycle.domain.values import TouchKind

EXAMPLE = Path(__file__).parents[2] / "config" / "example.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_DATA = tomllib.loads(EXAMPLE_TEXT)


# --------------------------------------------------------------------------- round trip
def _wall_clock(value: Any) -> Any:
    """The example writes times as "HH:MM"; the models keep them as times ("HH:MM:SS")."""
    if isinstance(value, dict):
        return {key: _wall_clock(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wall_clock(item) for item in value]
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        return value + ":00"
    return value


def test_every_key_of_the_example_round_trips_through_the_models() -> None:
    document = RulebookFile.model_validate(EXAMPLE_DATA)

    dumped = document.model_dump(mode="json", exclude_unset=True)

    assert dumped == _wall_clock(EXAMPLE_DATA)


def test_the_dumped_example_gives_the_same_rulebook() -> None:
    dumped = RulebookFile.model_validate(EXAMPLE_DATA).model_dump(mode="json", exclude_unset=True)

    assert rulebook_from_mapping(dumped) == rulebook_from_mapping(EXAMPLE_DATA)


# --------------------------------------------------------------------------- bad values
V: dict[str, Any] = {"version": "v1"}
TEAM = {"name": "na_bdr", "members": ["a"]}
BAD_VALUES: dict[str, tuple[dict[str, Any], str]] = {
    "version of the wrong type": ({"version": 3}, "version"),
    "empty version": ({"version": "  "}, "version"),
    "tolerance as text": ({**V, "future_tolerance_minutes": "5"}, "future_tolerance_minutes"),
    "infinite tolerance": (
        {**V, "future_tolerance_minutes": float("inf")},
        "future_tolerance_minutes",
    ),
    "hours as a boolean": (
        {**V, "sla": {"first_attempt": {"business_hours": True}}},
        "sla.first_attempt.business_hours",
    ),
    "zero days": ({**V, "sla": {"auto_nurture": {"days": 0}}}, "sla.auto_nurture.days"),
    "a policy that is not a table": ({**V, "sla": {"cadence": 5}}, "sla.cadence"),
    "fractional attempts": ({**V, "sla": {"cadence": {"attempts": 2.5}}}, "sla.cadence.attempts"),
    "unknown policy key": ({**V, "sla": {"cadence": {"tries": 5}}}, "sla.cadence.tries"),
    "unknown top-level key": ({**V, "alerts": {}}, "alerts"),
    "bad time zone": (
        {**V, "calendars": {"x": {"timezone": "Mars/Olympus"}}},
        "calendars.x.timezone",
    ),
    "time zone as a number": ({**V, "calendars": {"x": {"timezone": 1}}}, "calendars.x.timezone"),
    "bad weekday": (
        {**V, "calendars": {"x": {"timezone": "UTC", "working_days": ["mo"]}}},
        "calendars.x.working_days",
    ),
    "no weekday": (
        {**V, "calendars": {"x": {"timezone": "UTC", "working_days": []}}},
        "calendars.x.working_days",
    ),
    "bad holiday country": (
        {**V, "calendars": {"x": {"timezone": "UTC", "country": "Atlantis"}}},
        "calendars.x.country",
    ),
    "subdivision without a country": (
        {**V, "calendars": {"x": {"timezone": "UTC", "subdivision": "BY"}}},
        "calendars.x.subdivision",
    ),
    "opening time with an offset": (
        {**V, "calendars": {"x": {"timezone": "UTC", "opens": "09:00+01:00"}}},
        "calendars.x.opens",
    ),
    "unknown calendar key": (
        {**V, "calendars": {"x": {"timezone": "UTC", "holidays": "DE"}}},
        "calendars.x.holidays",
    ),
    "teams not a list": ({**V, "routing": {"teams": {"name": "x"}}}, "routing.teams"),
    "a team that is not a table": ({**V, "routing": {"teams": ["x"]}}, "routing.teams[0]"),
    "a team named twice": ({**V, "routing": {"teams": [TEAM, TEAM]}}, "routing.teams[1].name"),
    "unknown team key": (
        {**V, "routing": {"teams": [{**TEAM, "lead": "a"}]}},
        "routing.teams[0].lead",
    ),
    "a member that is not a string": (
        {**V, "routing": {"teams": [{**TEAM, "members": [1]}]}},
        "routing.teams[0].members",
    ),
    "zero employees": (
        {**V, "routing": {"large_account_employees": 0}},
        "routing.large_account_employees",
    ),
    "brands as a string": ({**V, "routing": {"named_brands": "Spotify"}}, "routing.named_brands"),
    "owner as a number": (
        {**V, "routing": {"account_owners": {"Initech": 7}}},
        "routing.account_owners.Initech",
    ),
    "threshold as text": ({**V, "scoring": {"mql_threshold": "20"}}, "scoring.mql_threshold"),
    "points as a float": (
        {**V, "scoring": {"title_points": {"vp": 2.5}}},
        "scoring.title_points.vp",
    ),
    "unknown creation touch": (
        {**V, "scoring": {"creation_touch": "fax"}},
        "scoring.creation_touch",
    ),
    "negative size minimum": ({**V, "scoring": {"size_points": [[-1, 3]]}}, "scoring.size_points"),
}


@pytest.mark.parametrize("data, key", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_each_bad_value_gives_a_message_starting_with_its_key(
    data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        rulebook_from_mapping(data)

    assert str(error.value).startswith(f"{key}: ") or str(error.value).startswith(f"{key} (")
    assert error.value.problems[0]["key"] == key
    assert all(p["message"].startswith(p["key"]) for p in error.value.problems)


def test_several_mistakes_are_reported_together_the_first_key_leading() -> None:
    data = {
        "version": 1,
        "sla": {"first_attempt": {"business_hours": -1}},
        "scoring": {"touch_points": {"tweet": 3}},
        "alerts": True,
    }

    with pytest.raises(ConfigError) as error:
        rulebook_from_mapping(data)

    keys = [p["key"] for p in error.value.problems]
    assert keys == [
        "version",
        "sla.first_attempt.business_hours",
        "scoring.touch_points.tweet",
        "alerts",
    ]
    assert str(error.value).startswith("version: must be a non-empty string")
    assert "; sla.first_attempt.business_hours: must be a positive number" in str(error.value)


def test_an_unknown_key_lists_the_keys_known_there() -> None:
    with pytest.raises(ConfigError, match=r"known here: calendar, members, name\)"):
        rulebook_from_mapping({**V, "routing": {"teams": [{**TEAM, "lead": "a"}]}})


# ------------------------------------------------------------------------------- schema
# The keywords of JSON Schema draft 2020-12 that pydantic writes, and the annotations.
KEYWORDS = {
    "$schema", "$defs", "$ref", "title", "description", "default", "type", "properties",
    "required", "additionalProperties", "propertyNames", "items", "prefixItems", "minItems",
    "maxItems", "minLength", "minimum", "exclusiveMinimum", "pattern", "enum", "anyOf",
}  # fmt: skip
TYPES = {"object", "array", "string", "number", "integer", "boolean"}


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for child in value.values():
                    yield from _nodes(child)
            elif key not in ("default", "enum"):
                yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def test_the_schema_is_a_json_schema_of_a_closed_document() -> None:
    schema = json_schema()
    definitions = schema["$defs"]

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["required"] == ["version"]
    for node in _nodes(schema):
        assert set(node) <= KEYWORDS, f"not a JSON Schema keyword: {set(node) - KEYWORDS}"
        assert node.get("type", "object") in TYPES
        if "$ref" in node:
            assert node["$ref"].removeprefix("#/$defs/") in definitions
        if "properties" in node:
            assert node["additionalProperties"] is False  # unknown keys are refused
            assert set(node.get("required", ())) <= set(node["properties"])
    assert json.loads(json.dumps(schema)) == schema


def test_every_key_in_the_schema_has_a_description() -> None:
    schema = json_schema()
    for node in _nodes(schema):
        for name, child in node.get("properties", {}).items():
            target = _resolve(schema, child)
            assert child.get("description") or target.get("description"), name


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _children(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The keys a table may hold: its properties, or its key names ("*": any name)."""
    node = _resolve(schema, node)
    if "properties" in node:
        return dict(node["properties"])
    value = node.get("additionalProperties")
    if not isinstance(value, dict):
        return {}
    names = _resolve(schema, node.get("propertyNames", {})).get("enum")
    return dict.fromkeys(names, value) if names else {"*": value}


def _schema_keys(schema: dict[str, Any], node: dict[str, Any], path: str = "") -> set[str]:
    keys = set()
    for name, child in _children(schema, node).items():
        key = f"{path}.{name}" if path else name
        keys.add(key)
        child = _resolve(schema, child)
        keys |= _schema_keys(schema, child.get("items", child), key)
    return keys


def _example_keys(
    schema: dict[str, Any], node: dict[str, Any], data: Any, path: str = ""
) -> set[str]:
    keys = set()
    children = _children(schema, node)
    for name, value in data.items():
        label = name if name in children else "*"
        key = f"{path}.{label}" if path else label
        assert label in children, f"{key}: in config/example.toml but not in the schema"
        keys.add(key)
        child = _resolve(schema, children[label])
        for table in value if isinstance(value, list) else [value]:
            if isinstance(table, dict):
                keys |= _example_keys(schema, child.get("items", child), table, key)
    return keys


def test_the_example_and_the_schema_name_the_same_keys() -> None:
    """Every key set in the example is in the schema; every key of the schema is set in the
    example or, where the example leaves it out (`minutes`), named in its comments."""
    schema = json_schema()
    comments = " ".join(line for line in EXAMPLE_TEXT.splitlines() if line.lstrip().startswith("#"))

    in_example = _example_keys(schema, schema, EXAMPLE_DATA)
    in_schema = _schema_keys(schema, schema)

    assert in_example <= in_schema
    undocumented = {key for key in in_schema - in_example if key.rsplit(".", 1)[-1] not in comments}
    assert undocumented == set()
    assert {f"scoring.touch_points.{kind.value}" for kind in TouchKind} <= in_example


# ---------------------------------------------------------------------------------- CLI
def test_config_check_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0

    assert json.loads(capsys.readouterr().out) == {"ok": True, "version": "2026-03-example"}


def test_config_check_uses_the_config_option_without_a_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "check", "--config", str(EXAMPLE)]) == 0

    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_config_check_reports_every_mistake_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('version = "v1"\n[sla.first_attempt]\nbusiness_hours = "4"\n[alerts]\n')

    assert main(["config", "check", str(path)]) == 1

    out, err = capsys.readouterr()
    error = json.loads(err)["error"]
    assert out == ""
    assert error["code"] == "validation_error"
    assert error["message"].startswith("sla.first_attempt.business_hours: must be a positive")
    assert error["message"].endswith(f"(in {path})")
    assert [p["key"] for p in error["problems"]] == ["sla.first_attempt.business_hours", "alerts"]


@pytest.mark.parametrize("text", ['version = "v1"\n[sla\n', None], ids=["bad TOML", "no file"])
def test_config_check_of_an_unreadable_file_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None
) -> None:
    path = tmp_path / "rules.toml"
    if text is not None:
        path.write_text(text)

    assert main(["config", "check", str(path)]) == 1

    assert "rules.toml" in json.loads(capsys.readouterr().err)["error"]["message"]


def test_config_check_without_any_file_is_bad_usage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIFECYCLE_CONFIG", raising=False)

    assert main(["config", "check"]) == 2

    assert json.loads(capsys.readouterr().err)["error"]["code"] == "validation_error"


def test_config_schema_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0

    assert json.loads(capsys.readouterr().out) == json_schema()


def test_the_command_line_starts_without_the_rulebook_models() -> None:
    """`lifecycle --help` and every other command import `lifecycle.config` only if they read
    a rulebook: the models are built when a command needs them."""
    code = (
        "import sys, lifecycle.bootstrap, lifecycle.cli; print('lifecycle.config' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.stdout.strip() == "False", result.stderr
