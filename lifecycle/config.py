"""The rulebook from a versioned TOML file: SLA policies, business calendars, routing, scoring.

Read once at start (`--config FILE` or `LIFECYCLE_CONFIG`); without a file the built-in
defaults of the domain apply. The document is a tree of pydantic models (`RulebookFile`), one
per table, so a wrong file stops the service at start with messages naming each key
(`sla.first_attempt.business_hours: must be a positive number`) instead of producing odd
deadlines weeks later. Unknown keys are errors too: a typo must not silently fall back to a
default. Values are taken as written: `"4"` is not a number. `config/example.toml` documents
every key; `lifecycle config schema` prints the same models as a JSON Schema.

The `version` is recorded in the events whose deadlines, routing or score it computed.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError, core_schema

from .domain.calendar import BusinessCalendar
from .domain.routing import RoutingRules, Team
from .domain.rules import Rulebook
from .domain.scoring import ScoringPolicy
from .domain.sla import SlaPolicies
from .domain.values import TouchKind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CALENDAR_FIELDS = ("timezone", "opens", "closes", "working_days", "country", "subdivision")
_DEFAULT = Rulebook()
_MINUTE = timedelta(minutes=1)


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


# ------------------------------------------------------------------------------ values
def _fail(message: str, key: str = "", sep: str = ": ") -> PydanticCustomError:
    """An error whose message is ours; `key` (relative to where it is raised) extends the key."""
    return PydanticCustomError("config", message, {"_key": key, "_sep": sep})


def _kind(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"{type(value).__name__} {value!r}"
    )


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"must be a non-empty string, got {_kind(value)}")
    return value.strip()


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail("must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _whole(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(f"must be a whole number, got {_kind(value)}")
    return value


def _positive(value: Any) -> float:
    """A positive, finite int or float."""
    number_like = isinstance(value, int | float) and not isinstance(value, bool)
    if not number_like or not 0 < value < math.inf:
        raise _fail(f"must be a positive number, got {value!r}")
    return value  # type: ignore[no-any-return]


def _clock_time(value: Any) -> time:
    """A local wall-clock time: a TOML local time (09:00:00) or a string "09:00"."""
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
            raise _fail('must be a wall-clock time without a UTC offset, like "09:00"')
    raise _fail('must be a wall-clock time like "09:00"')


def _weekdays(value: Any) -> tuple[str, ...]:
    """Weekday names, short or long, any case; kept as the short names in week order."""
    days = set()
    for name in _texts(value):
        short = name.lower()[:3]
        if short not in WEEKDAYS or name.lower() not in (short, _LONG_DAYS[WEEKDAYS.index(short)]):
            raise _fail(f"{name!r} is not a weekday (mon…sun)")
        days.add(short)
    if not days:
        raise _fail("must name at least one weekday")
    return tuple(day for day in WEEKDAYS if day in days)


def _touch_kind(value: Any) -> TouchKind:
    try:
        return TouchKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in TouchKind)
        raise _fail(f"{value!r} is not a touch kind ({kinds})") from None


def _size_points(value: Any) -> tuple[tuple[int, int], ...]:
    """`[[minimum employees, points], …]`, kept largest first (the first match counts)."""
    pairs: list[Any] = value if isinstance(value, list) else [None]
    if not all(
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
        and pair[0] >= 0
        for pair in pairs
    ):
        raise _fail("must be a list of [minimum employees, points]")
    return tuple(sorted(((a, b) for a, b in pairs), reverse=True))


def _keyword(value: Any) -> str:
    return str(value).strip().lower()


Text = Annotated[str, Field(min_length=1), BeforeValidator(_text)]
Texts = Annotated[tuple[str, ...], BeforeValidator(_texts)]
Whole = Annotated[int, BeforeValidator(_whole)]
Count = Annotated[int, Field(ge=1), BeforeValidator(_whole)]
Positive = Annotated[float, Field(gt=0), BeforeValidator(_positive)]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$"}),
]
Weekdays = Annotated[
    tuple[str, ...],
    BeforeValidator(_weekdays),
    WithJsonSchema({"type": "array", "minItems": 1, "items": {"enum": [*WEEKDAYS, *_LONG_DAYS]}}),
]
Touch = Annotated[TouchKind, BeforeValidator(_touch_kind)]
Keyword = Annotated[str, BeforeValidator(_keyword)]
SizePoints = Annotated[tuple[tuple[int, int], ...], BeforeValidator(_size_points)]


# ------------------------------------------------------------------------------ tables
class _Table(BaseModel):
    """A TOML table: unknown keys are refused; field descriptions are the schema's text.

    (Descriptions are given with `Field`, not as attribute docstrings: pydantic reads those
    from the source at import, which made loading a rulebook 150 ms slower.)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    unknown_key: ClassVar[str] = "unknown key (known here: {known})"

    @classmethod
    def known_keys(cls) -> str:
        return ", ".join(sorted(cls.model_fields))


class Duration(_Table):
    """Exactly one of `days`, `hours` or `minutes` (numbers, fractions allowed)."""

    days: Positive | None = Field(None, description="Days (a fraction allowed).")
    hours: Positive | None = Field(None, description="Hours (a fraction allowed).")
    minutes: Positive | None = Field(None, description="Minutes (a fraction allowed).")

    @model_validator(mode="after")
    def _one_unit(self) -> Self:
        given = [unit for unit in ("days", "hours", "minutes") if getattr(self, unit) is not None]
        if len(given) > 1:
            raise _fail("give one of days, hours or minutes, not both", key=given[1])
        return self

    def value(self, default: timedelta) -> timedelta:
        """The duration given; none given: `default`."""
        unit = next((u for u in ("days", "hours", "minutes") if getattr(self, u) is not None), None)
        return timedelta(**{unit: getattr(self, unit)}) if unit else default

    @classmethod
    def of(cls, span: timedelta) -> Self:
        """`span` in the largest whole unit (the defaults shown in the schema)."""
        if span >= timedelta(days=2) and span % timedelta(days=1) == timedelta():
            return cls(days=span.days)
        if span % timedelta(hours=1) == timedelta():
            return cls(hours=span / timedelta(hours=1))
        return cls(minutes=span / _MINUTE)


class FirstAttempt(_Table):
    """First contact attempt within N *business* hours of assignment, counted on the calendar
    of the owner's team. Started when a lead is assigned (raw → open) or reopened with an owner;
    met by the first attempt (or any response, qualification, disqualification, nurture, bad
    data). Breach: `sla_breached`."""

    business_hours: Positive = Field(
        _DEFAULT.sla.first_attempt_business_hours,
        description="Business hours from assignment to the first attempt.",
    )


class Cadence(Duration):
    """`attempts` contact attempts within the window (`days`, `hours` or `minutes`) that starts
    at the first attempt, unless the lead responds. Breach (too few attempts when the window
    closes): `sla_breached`."""

    attempts: Count = Field(
        _DEFAULT.sla.cadence_attempts,
        description="Attempts needed within the window.",
    )


class Sla(_Table):
    """SLA policies. Each policy is optional; a policy left out keeps its default."""

    unknown_key: ClassVar[str] = "unknown policy (one of {known})"

    first_attempt: FirstAttempt = FirstAttempt()
    mql_follow_up: Duration = Field(
        Duration.of(_DEFAULT.sla.mql_follow_up),
        description=(
            "A new MQL (its score reached scoring.mql_threshold) is followed up within this "
            "time: met by the next attempt or any conversation. Only started while a "
            "follow-up is possible (raw, open, attempt_1..4, nurture). Breach: "
            "`sla_breached`."
        ),
    )
    cadence: Cadence = Cadence(
        attempts=_DEFAULT.sla.cadence_attempts, days=_DEFAULT.sla.cadence_window.days
    )
    auto_nurture: Duration = Field(
        Duration.of(_DEFAULT.sla.auto_nurture),
        description=(
            "An attempt_1..attempt_4 lead with no response for this long moves to nurture "
            "(`auto_nurtured`). Every new attempt restarts it; a response cancels it."
        ),
    )
    passed_follow_up: Duration = Field(
        Duration.of(_DEFAULT.sla.passed_follow_up),
        description=(
            "A lead passed to sales is acted on (accepted, or an opportunity opened) by its "
            "new owner within this time, or it is escalated (`escalated`). The handbook says "
            "1–7 days."
        ),
    )
    opt_out_expiry: Duration = Field(
        Duration.of(_DEFAULT.sla.opt_out_expiry),
        description=(
            'The usual length of a temporary opt-out (the "30-Day Opt Out" box). A client '
            "sets the length of each opt-out with its `days` field; this value documents the "
            "policy."
        ),
    )

    @classmethod
    def known_keys(cls) -> str:
        return ", ".join(cls.model_fields)

    def to_domain(self, calendars: Mapping[str, BusinessCalendar]) -> SlaPolicies:
        default = _DEFAULT.sla
        return replace(
            default,
            calendars=calendars,
            first_attempt_business_hours=float(self.first_attempt.business_hours),
            mql_follow_up=self.mql_follow_up.value(default.mql_follow_up),
            cadence_attempts=self.cadence.attempts,
            cadence_window=self.cadence.value(default.cadence_window),
            auto_nurture=self.auto_nurture.value(default.auto_nurture),
            passed_follow_up=self.passed_follow_up.value(default.passed_follow_up),
            opt_out_expiry=self.opt_out_expiry.value(default.opt_out_expiry),
        )


class Calendar(_Table):
    """A business calendar, named freely; teams refer to it by name. A team without a calendar
    (or with calendar = "default") uses [calendars.default] if given, else 09:00–17:00 UTC,
    Monday to Friday."""

    timezone: Text = Field(description="IANA time zone name (required).")
    opens: ClockTime = Field(
        time(9),
        description=(
            'Local wall-clock opening time, "HH:MM"; clocks changing for daylight saving time'
            " are handled."
        ),
    )
    closes: ClockTime = Field(time(17), description='Local wall-clock closing time, "HH:MM".')
    working_days: Weekdays = Field(
        WEEKDAYS[:5],
        description=(
            "Weekdays worked: mon tue wed thu fri sat sun (long names and any case accepted)."
        ),
    )
    country: Text | None = Field(
        None,
        description=(
            "ISO 3166-1 code whose public holidays are days off (the `holidays` package); "
            "leave out for no public holidays."
        ),
    )
    subdivision: Text | None = Field(
        None,
        description=('State/province code within the country for regional holidays (e.g. "BY").'),
    )

    @model_validator(mode="after")
    def _valid(self) -> Self:
        try:
            self.to_domain()
        except ValueError as error:  # the calendar's own message, "timezone: …"
            message = str(error)
            field = next((name for name in _CALENDAR_FIELDS if message.startswith(name)), "")
            raise _fail(message[len(field) :], key=field, sep="") from None
        return self

    def to_domain(self) -> BusinessCalendar:
        return BusinessCalendar(
            timezone=self.timezone,
            opens=self.opens,
            closes=self.closes,
            working_days=frozenset(WEEKDAYS.index(day) for day in self.working_days),
            country=self.country,
            subdivision=self.subdivision,
        )


def _teams(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise _fail("must be a non-empty list of tables ([[routing.teams]])")
    return value


def _members(value: Any) -> tuple[str, ...]:
    members = _texts(value)
    if not members:
        raise _fail("a team needs at least one member")
    return members


class TeamTable(_Table):
    """A team: a unique `name`, its `members` (at least one) and the `calendar` its SLA clocks
    use. Within a team members take turns (round-robin)."""

    name: Text = Field(description="The team's name, unique; routing's *_team keys refer to it.")
    members: Annotated[tuple[str, ...], Field(min_length=1), BeforeValidator(_members)] = Field(
        description="Owners who take turns, at least one.",
    )
    calendar: Text = Field("default", description="The name of a table in [calendars].")


_ROLES = ("emea_team", "default_team", "enterprise_team", "fortune_500_team")
_ROUTING = _DEFAULT.routing


class Routing(_Table):
    """Who owns a lead assigned without an explicit owner (seed 004, "Inbound Lead Flow"), tried
    in this order: the company's account owner; Fortune 500 → fortune_500_team; region EMEA →
    emea_team; a named brand or a large account → enterprise_team; everyone else →
    default_team."""

    emea_team: Text = Field(_ROUTING.emea_team, description="Team for leads from region EMEA.")
    default_team: Text = Field(_ROUTING.default_team, description="Team for everyone else.")
    enterprise_team: Text = Field(
        _ROUTING.enterprise_team,
        description="Team for named brands and large accounts.",
    )
    fortune_500_team: Text = Field(
        _ROUTING.fortune_500_team,
        description="Team for Fortune 500 companies.",
    )
    large_account_employees: Count = Field(
        _ROUTING.large_account_employees,
        description="A company with at least this many employees is a large account.",
    )
    fortune_500: Texts = Field(
        (),
        description="Company names, compared trimmed and case-insensitively.",
    )
    named_brands: Texts = Field(
        (),
        description="Company names, compared trimmed and case-insensitively.",
    )
    account_owners: dict[str, Text] = Field(
        {},
        description="Companies that already have an account owner: company name = owner.",
    )
    teams: Annotated[list[TeamTable], BeforeValidator(_teams)] | None = Field(
        None,
        description=(
            "Teams ([[routing.teams]]). When given it replaces the built-in teams entirely."
        ),
    )

    def to_domain(self) -> RoutingRules:
        teams = tuple(Team(t.name, t.members, t.calendar) for t in self.teams or ())
        return replace(
            _ROUTING,
            teams=teams or _ROUTING.teams,
            account_owners={_keyword(k): v for k, v in self.account_owners.items()}
            or dict(_ROUTING.account_owners),
            fortune_500=frozenset(map(_keyword, self.fortune_500)) or _ROUTING.fortune_500,
            named_brands=frozenset(map(_keyword, self.named_brands)) or _ROUTING.named_brands,
            large_account_employees=self.large_account_employees,
            **{role: getattr(self, role) for role in _ROLES},
        )


_SCORING = _DEFAULT.scoring


class Scoring(_Table):
    """Score = demographic fit + behavioural engagement; a lead becomes an MQL when its score
    reaches mql_threshold (seed 004: 20)."""

    mql_threshold: Count = Field(
        _SCORING.mql_threshold,
        description="The score at which a lead becomes an MQL.",
    )
    creation_touch: Touch = Field(
        _SCORING.creation_touch,
        description="The inquiry that creates a lead counts as this kind of touch.",
    )
    size_points: SizePoints = Field(
        _SCORING.size_points,
        description=(
            "Fit by company size: [minimum employees, points]; the largest matching minimum counts."
        ),
    )
    touch_points: dict[Touch, Whole] = Field(
        {},
        description="Points per touch kind. Kinds left out keep their default.",
    )
    title_points: dict[Keyword, Whole] | None = Field(
        None,
        description=(
            "Fit by job title: a keyword found in the title (case-insensitive) gives its "
            "points; the best match counts. When given, this table replaces the built-in "
            "keywords."
        ),
    )
    industry_points: dict[Keyword, Whole] | None = Field(
        None,
        description=(
            "Fit by industry (compared case-insensitively). When given, replaces the built-in"
            " (empty) table."
        ),
    )

    def to_domain(self) -> ScoringPolicy:
        return ScoringPolicy(
            mql_threshold=self.mql_threshold,
            touch_points={**_SCORING.touch_points, **self.touch_points},
            title_points=dict(
                _SCORING.title_points if self.title_points is None else self.title_points
            ),
            size_points=self.size_points,
            industry_points=dict(
                _SCORING.industry_points if self.industry_points is None else self.industry_points
            ),
            creation_touch=self.creation_touch,
        )


class RulebookFile(_Table):
    """lifecycle rulebook: SLA policies, business calendars, routing and scoring. Without a file
    the built-in defaults apply (the defaults shown, except the calendars: built in, every team
    works 09:00–17:00 UTC, Monday to Friday, without public holidays)."""

    model_config = ConfigDict(title="lifecycle rulebook")

    version: Text = Field(
        description=(
            "Required. Recorded as `rules_version` in every event whose deadlines, owner or "
            "score these rules computed, so reports can tell which rules were in force. "
            "Change it whenever you change a value. Deadlines already recorded never move "
            "when the rules change."
        ),
    )
    future_tolerance_minutes: Positive = Field(
        _DEFAULT.future_tolerance / _MINUTE,
        description=(
            "How far in the future an activity's `occurred_at` may be (senders' clocks "
            "drift); later activities are rejected with `occurred_in_future`. Minutes."
        ),
    )
    calendars: dict[str, Calendar] = Field(
        {},
        description="Business calendars, one table per calendar, named freely.",
    )
    sla: Sla = Sla()
    routing: Routing = Routing()
    scoring: Scoring = Scoring()

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        """Teams name known calendars, once each; the routing roles name known teams."""
        calendars = self.calendars.keys() or _DEFAULT.sla.calendars.keys()
        teams: set[str] = set()
        for index, team in enumerate(self.routing.teams or ()):
            key = f"routing.teams[{index}]"
            if team.calendar not in calendars and team.calendar != "default":
                known = ", ".join(sorted(calendars))
                message = f"no calendar {team.calendar!r} (known: {known})"
                raise _fail(message, key=f"{key}.calendar")
            if team.name in teams:
                raise _fail(f"{team.name!r} is named twice", key=f"{key}.name")
            teams.add(team.name)
        teams = teams or {team.name for team in _ROUTING.teams}
        for role in _ROLES:
            if (name := getattr(self.routing, role)) not in teams:
                raise _fail(f"no team named {name!r} in routing.teams", key=f"routing.{role}")
        return self

    def to_rulebook(self) -> Rulebook:
        calendars = {name: table.to_domain() for name, table in self.calendars.items()}
        return Rulebook(
            version=self.version,
            scoring=self.scoring.to_domain(),
            routing=self.routing.to_domain(),
            sla=self.sla.to_domain(calendars or _DEFAULT.sla.calendars),
            future_tolerance=timedelta(minutes=self.future_tolerance_minutes),
        )


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
        return f"must be a table, got {_kind(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {_kind(value)}"
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


def _table_at(loc: list[int | str]) -> type[_Table] | None:
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
    return node if isinstance(node, type) and issubclass(node, _Table) else None


def _unwrapped(node: Any) -> Any:
    while get_origin(node) in (Annotated, Union, UnionType):
        node = next(arg for arg in get_args(node) if arg is not type(None))
    return node


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    return value
