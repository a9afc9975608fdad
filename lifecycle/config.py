"""The rulebook from a versioned TOML file: SLA policies, business calendars, routing, scoring.

Read once at start (`--config FILE` or `LIFECYCLE_CONFIG`); without a file the built-in
defaults of the domain apply. Every value is checked here, so a wrong file stops the service at
start with a message naming the key (`sla.first_attempt.business_hours: must be a positive
number`) instead of producing odd deadlines weeks later. Unknown keys are errors too: a typo
must not silently fall back to a default. `config/example.toml` documents every key.

The `version` is recorded in the events whose deadlines, routing or score it computed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from .domain.calendar import BusinessCalendar
from .domain.routing import RoutingRules, Team
from .domain.rules import Rulebook
from .domain.scoring import ScoringPolicy
from .domain.sla import SlaPolicies
from .domain.values import TouchKind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MISSING: Any = object()
_CALENDAR_FIELDS = ("timezone", "opens", "closes", "working_days", "country", "subdivision")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message begins with its key."""


def load_rulebook(path: Path) -> Rulebook:
    """The rulebook in the TOML file at `path`; `ConfigError` names the file and the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration ({error.strerror})") from None
    try:
        return rulebook_from_toml(text)
    except ConfigError as error:
        raise ConfigError(f"{error} (in {path})") from None


def rulebook_from_toml(text: str) -> Rulebook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}") from None
    return rulebook_from_mapping(data)


def rulebook_from_mapping(data: Mapping[str, Any]) -> Rulebook:
    """The rulebook for an already parsed document (top-level keys as in the TOML file)."""
    root = Section(data, "")
    defaults = Rulebook()
    version = root.text("version")
    calendars = _calendars(root.section("calendars"), defaults.sla.calendars)
    sla = _sla(root.section("sla"), defaults.sla, calendars)
    routing = _routing(root.section("routing"), defaults.routing, calendars)
    scoring = _scoring(root.section("scoring"), defaults.scoring)
    tolerance = root.number("future_tolerance_minutes", defaults.future_tolerance / _MINUTE)
    root.finish()
    return Rulebook(version, scoring, routing, sla, timedelta(minutes=tolerance))


_MINUTE = timedelta(minutes=1)


# ----------------------------------------------------------------------------- reading
class Section:
    """One TOML table, read key by key; `finish()` rejects the keys nobody asked for."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: must be a table, got {_kind(data)}")
        self.data, self.path, self.seen = data, path, set[str]()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str, default: Any = _MISSING) -> Any:
        self.seen.add(name)
        if name in self.data:
            return self.data[name]
        if default is _MISSING:
            raise ConfigError(f"{self.key(name)}: required")
        return default

    def has(self, name: str) -> bool:
        return name in self.data

    def section(self, name: str) -> Section:
        return Section(self.raw(name, {}), self.key(name))

    def sections(self) -> dict[str, Section]:
        """Every sub-table, by name (for tables whose keys are names: calendars, policies)."""
        return {name: self.section(name) for name in self.data}

    def text(self, name: str, default: Any = _MISSING) -> Any:
        value = self.raw(name, default)
        if value is not default and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{self.key(name)}: must be a non-empty string, got {_kind(value)}")
        return value.strip() if isinstance(value, str) else value

    def texts(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        values = self.raw(name, list(default))
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ConfigError(f"{self.key(name)}: must be a list of non-empty strings")
        return tuple(value.strip() for value in values)

    def integer(self, name: str, default: Any = _MISSING, minimum: int | None = None) -> Any:
        value = self.raw(name, default)
        if value is default:
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{self.key(name)}: must be a whole number, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{self.key(name)}: must be at least {minimum}, got {value}")
        return value

    def number(self, name: str, default: Any = _MISSING) -> Any:
        """A positive, finite int or float."""
        value = self.raw(name, default)
        if value is default:
            return value
        number_like = isinstance(value, int | float) and not isinstance(value, bool)
        if not number_like or not 0 < value < float("inf"):
            raise ConfigError(f"{self.key(name)}: must be a positive number, got {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            known = ", ".join(sorted(self.seen)) or "none"
            raise ConfigError(f"{self.key(unknown[0])}: unknown key (known here: {known})")


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


def _duration(section: Section, default: timedelta) -> timedelta:
    """Exactly one of `days`, `hours` or `minutes`; none given: the default."""
    given = [unit for unit in ("days", "hours", "minutes") if section.has(unit)]
    if len(given) > 1:
        raise ConfigError(f"{section.key(given[1])}: give one of days, hours or minutes, not both")
    if not given:
        return default
    return timedelta(**{given[0]: section.number(given[0])})


# -------------------------------------------------------------------------------- SLA
_POLICY_DURATIONS = ("mql_follow_up", "auto_nurture", "passed_follow_up", "opt_out_expiry")


def _sla(
    section: Section, default: SlaPolicies, calendars: Mapping[str, BusinessCalendar]
) -> SlaPolicies:
    policies = section.sections()
    unknown = sorted(policies.keys() - {"first_attempt", "cadence", *_POLICY_DURATIONS})
    if unknown:
        known = ", ".join(("first_attempt", "cadence", *_POLICY_DURATIONS))
        raise ConfigError(f"{section.key(unknown[0])}: unknown policy (one of {known})")
    fields: dict[str, Any] = {"calendars": calendars}
    for name in set(_POLICY_DURATIONS) & policies.keys():
        fields[name] = _duration(policies[name], getattr(default, name))
    if (first := policies.get("first_attempt")) is not None:
        hours = first.number("business_hours", default.first_attempt_business_hours)
        fields["first_attempt_business_hours"] = float(hours)
    if (cadence := policies.get("cadence")) is not None:
        fields["cadence_attempts"] = cadence.integer("attempts", default.cadence_attempts, 1)
        fields["cadence_window"] = _duration(cadence, default.cadence_window)
    for policy in policies.values():
        policy.finish()
    section.finish()
    return replace(default, **fields)


# -------------------------------------------------------------------------- calendars
def _calendars(
    section: Section, default: Mapping[str, BusinessCalendar]
) -> Mapping[str, BusinessCalendar]:
    tables = section.sections()
    section.finish()
    if not tables:
        return default
    return {name: _calendar(table) for name, table in tables.items()}


def _calendar(section: Section) -> BusinessCalendar:
    fields: dict[str, Any] = {
        "timezone": section.text("timezone"),
        "opens": _clock_time(section, "opens", time(9)),
        "closes": _clock_time(section, "closes", time(17)),
        "working_days": _weekdays(section),
        "country": section.text("country", None),
        "subdivision": section.text("subdivision", None),
    }
    section.finish()
    try:
        return BusinessCalendar(**fields)
    except ValueError as error:
        raise ConfigError(_calendar_message(section, str(error))) from None


def _calendar_message(section: Section, message: str) -> str:
    """The calendar's own message ("timezone: …"), led by the full key of the field."""
    field = next((name for name in _CALENDAR_FIELDS if message.startswith(name)), None)
    if field is None:
        return f"{section.path}: {message}"
    return f"{section.key(field)}{message[len(field) :]}"


def _clock_time(section: Section, name: str, default: time) -> time:
    """A local wall-clock time: a TOML local time (09:00:00) or a string "09:00"."""
    value = section.raw(name, default)
    if isinstance(value, time) and value.tzinfo is None:
        return value
    try:
        return time.fromisoformat(value) if isinstance(value, str) else _bad_time(section, name)
    except ValueError:
        return _bad_time(section, name)


def _bad_time(section: Section, name: str) -> time:
    raise ConfigError(f'{section.key(name)}: must be a wall-clock time like "09:00"')


def _weekdays(section: Section) -> frozenset[int]:
    names = section.texts("working_days", WEEKDAYS[:5])
    days = set()
    for name in names:
        short = name.lower()[:3]
        if short not in WEEKDAYS or name.lower() not in (short, _long_day(short)):
            raise ConfigError(f"{section.key('working_days')}: {name!r} is not a weekday (mon…sun)")
        days.add(WEEKDAYS.index(short))
    if not days:
        raise ConfigError(f"{section.key('working_days')}: must name at least one weekday")
    return frozenset(days)


def _long_day(short: str) -> str:
    return {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
            "fri": "friday", "sat": "saturday", "sun": "sunday"}[short]  # fmt: skip


# ---------------------------------------------------------------------------- routing
_TEAM_ROLES = ("emea_team", "default_team", "enterprise_team", "fortune_500_team")


def _routing(
    section: Section, default: RoutingRules, calendars: Mapping[str, BusinessCalendar]
) -> RoutingRules:
    teams = _teams(section, default.teams, calendars)
    roles = {role: section.text(role, getattr(default, role)) for role in _TEAM_ROLES}
    names = {team.name for team in teams}
    for role, team in roles.items():
        if team not in names:
            raise ConfigError(f"{section.key(role)}: no team named {team!r} in routing.teams")
    owners = section.section("account_owners")
    account_owners = {_company(k): owners.text(k) for k in list(owners.data)}
    rules = RoutingRules(
        teams=teams,
        account_owners=account_owners or dict(default.account_owners),
        fortune_500=frozenset(map(_company, section.texts("fortune_500"))) or default.fortune_500,
        named_brands=frozenset(map(_company, section.texts("named_brands")))
        or default.named_brands,
        large_account_employees=section.integer(
            "large_account_employees", default.large_account_employees, minimum=1
        ),
        **roles,
    )
    owners.finish()
    section.finish()
    return rules


def _teams(
    section: Section, default: tuple[Team, ...], calendars: Mapping[str, BusinessCalendar]
) -> tuple[Team, ...]:
    tables = section.raw("teams", None)
    if tables is None:
        return default
    if not isinstance(tables, list) or not tables:
        raise ConfigError(
            f"{section.key('teams')}: must be a non-empty list of tables ([[routing.teams]])"
        )
    teams = tuple(
        _team(Section(t, f"{section.key('teams')}[{i}]"), calendars) for i, t in enumerate(tables)
    )
    seen: set[str] = set()
    for index, team in enumerate(teams):
        if team.name in seen:
            raise ConfigError(f"{section.key('teams')}[{index}].name: {team.name!r} is named twice")
        seen.add(team.name)
    return teams


def _team(section: Section, calendars: Mapping[str, BusinessCalendar]) -> Team:
    name = section.text("name")
    members = section.texts("members")
    if not members:
        raise ConfigError(f"{section.key('members')}: a team needs at least one member")
    calendar = section.text("calendar", "default")
    if calendar not in calendars and calendar != "default":
        known = ", ".join(sorted(calendars))
        raise ConfigError(f"{section.key('calendar')}: no calendar {calendar!r} (known: {known})")
    section.finish()
    return Team(name, members, calendar)


def _company(name: str) -> str:
    return name.strip().lower()


# ---------------------------------------------------------------------------- scoring
def _scoring(section: Section, default: ScoringPolicy) -> ScoringPolicy:
    touch_points = {**default.touch_points, **_touch_points(section.section("touch_points"))}
    titles = _points(section.section("title_points"))
    industries = _points(section.section("industry_points"))
    creation = section.text("creation_touch", default.creation_touch.value)
    policy = ScoringPolicy(
        mql_threshold=section.integer("mql_threshold", default.mql_threshold, minimum=1),
        touch_points=touch_points,
        title_points=titles if section.has("title_points") else dict(default.title_points),
        size_points=_size_points(section, default.size_points),
        industry_points=industries
        if section.has("industry_points")
        else dict(default.industry_points),
        creation_touch=_touch_kind(section, "creation_touch", creation),
    )
    section.finish()
    return policy


def _touch_points(section: Section) -> dict[TouchKind, int]:
    points = {
        _touch_kind(section, name, name): section.integer(name) for name in list(section.data)
    }
    section.finish()
    return points


def _touch_kind(section: Section, key: str, value: str) -> TouchKind:
    try:
        return TouchKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in TouchKind)
        raise ConfigError(f"{section.key(key)}: {value!r} is not a touch kind ({kinds})") from None


def _points(section: Section) -> dict[str, int]:
    points = {name.strip().lower(): section.integer(name) for name in list(section.data)}
    section.finish()
    return points


def _size_points(
    section: Section, default: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    """`[[minimum employees, points], …]`, kept largest first (the first match counts)."""
    value = section.raw("size_points", None)
    if value is None:
        return default
    pairs: list[Any] = value if isinstance(value, list) else [None]
    if not all(_is_pair(pair) for pair in pairs):
        raise ConfigError(
            f"{section.key('size_points')}: must be a list of [minimum employees, points]"
        )
    return tuple(sorted(((int(a), int(b)) for a, b in pairs), reverse=True))


def _is_pair(pair: Any) -> bool:
    return (
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
        and pair[0] >= 0
    )
