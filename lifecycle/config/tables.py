"""The rulebook TOML as pydantic models, one per table, each converting to the domain's value.
Here the calendars, routing, scoring and the whole document; `policies` holds the base
tables, the SLA policies and the contact settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from typing import Annotated, Self

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from ..domain.calendar import BusinessCalendar
from ..domain.routing import RoutingRules, Team
from ..domain.rules import Rulebook
from ..domain.scoring import ScoringPolicy
from .policies import Contact, Sla, Table
from .values import (
    WEEKDAYS,
    ClockTime,
    Count,
    Keyword,
    Members,
    Positive,
    SizePoints,
    Text,
    Texts,
    Touch,
    Weekdays,
    Whole,
    fail,
    keyword,
    team_list,
)

__all__ = ["Calendar", "Routing", "RulebookFile", "Scoring", "Table", "TeamTable"]

_CALENDAR_FIELDS = ("timezone", "opens", "closes", "working_days", "country", "subdivision")
_DEFAULT = Rulebook()
_MINUTE = timedelta(minutes=1)


class Calendar(Table):
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
            raise fail(message[len(field) :], key=field, sep="") from None
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


class TeamTable(Table):
    """A team: a unique `name`, its `members` (at least one) and the `calendar` its SLA clocks
    use. Within a team members take turns (round-robin)."""

    name: Text = Field(description="The team's name, unique; routing's *_team keys refer to it.")
    members: Members = Field(
        description="Owners who take turns, at least one.",
    )
    calendar: Text = Field("default", description="The name of a table in [calendars].")


_ROLES = ("emea_team", "default_team", "enterprise_team", "fortune_500_team")
_ROUTING = _DEFAULT.routing


class Routing(Table):
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
    teams: Annotated[list[TeamTable], BeforeValidator(team_list)] | None = Field(
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
            account_owners={keyword(k): v for k, v in self.account_owners.items()}
            or dict(_ROUTING.account_owners),
            fortune_500=frozenset(map(keyword, self.fortune_500)) or _ROUTING.fortune_500,
            named_brands=frozenset(map(keyword, self.named_brands)) or _ROUTING.named_brands,
            large_account_employees=self.large_account_employees,
            **{role: getattr(self, role) for role in _ROLES},
        )


_SCORING = _DEFAULT.scoring


class Scoring(Table):
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


class RulebookFile(Table):
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
    contact: Contact = Contact()

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
                raise fail(message, key=f"{key}.calendar")
            if team.name in teams:
                raise fail(f"{team.name!r} is named twice", key=f"{key}.name")
            teams.add(team.name)
        teams = teams or {team.name for team in _ROUTING.teams}
        for role in _ROLES:
            if (name := getattr(self.routing, role)) not in teams:
                raise fail(f"no team named {name!r} in routing.teams", key=f"routing.{role}")
        return self

    def to_rulebook(self) -> Rulebook:
        calendars = {name: table.to_domain() for name, table in self.calendars.items()}
        return Rulebook(
            version=self.version,
            scoring=self.scoring.to_domain(),
            routing=self.routing.to_domain(),
            sla=self.sla.to_domain(calendars or _DEFAULT.sla.calendars),
            future_tolerance=timedelta(minutes=self.future_tolerance_minutes),
            phone_region=self.contact.default_phone_region,
        )
