"""The rulebook's tables of plain policies — SLA clocks, how contact details are read — and
the base of every table (`Table`, `Duration`); `tables` holds the rest and the document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from ..domain.calendar import BusinessCalendar
from ..domain.phones import PHONE_REGIONS
from ..domain.rules import Rulebook
from ..domain.sla import SlaPolicies
from .values import Count, Positive, fail, kind_of

_DEFAULT = Rulebook()
_MINUTE = timedelta(minutes=1)


class Table(BaseModel):
    """A TOML table, unknown keys refused. Descriptions use `Field`: attribute docstrings are read
    from the source at import, which made loading a rulebook 150 ms slower."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    unknown_key: ClassVar[str] = "unknown key (known here: {known})"

    @classmethod
    def known_keys(cls) -> str:
        return ", ".join(sorted(cls.model_fields))


class Duration(Table):
    """Exactly one of `days`, `hours` or `minutes` (numbers, fractions allowed)."""

    days: Positive | None = Field(None, description="Days (a fraction allowed).")
    hours: Positive | None = Field(None, description="Hours (a fraction allowed).")
    minutes: Positive | None = Field(None, description="Minutes (a fraction allowed).")

    @model_validator(mode="after")
    def _one_unit(self) -> Self:
        given = [unit for unit in ("days", "hours", "minutes") if getattr(self, unit) is not None]
        if len(given) > 1:
            raise fail("give one of days, hours or minutes, not both", key=given[1])
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


class FirstAttempt(Table):
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


class Sla(Table):
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


_ISO = "^[A-Za-z]{2}$"


def _phone_region(value: Any) -> str:
    """An ISO 3166-1 alpha-2 region code libphonenumber knows, any case; kept upper case."""
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in PHONE_REGIONS:
        shown = repr(value) if isinstance(value, str) else kind_of(value)
        raise fail(f'must be an ISO 3166-1 region code such as "US" or "GB", got {shown}')
    return code


class Contact(Table):
    """How contact details are read (docs/activities.md, Values)."""

    default_phone_region: Annotated[
        str, BeforeValidator(_phone_region), WithJsonSchema({"type": "string", "pattern": _ISO})
    ] = Field(
        _DEFAULT.phone_region,
        description=(
            "ISO 3166-1 region a phone number without a country code is read in, when the "
            'lead\'s `country` is not itself such a code: with "US", (415) 555-0100 is '
            "+14155550100. Numbers are kept in E.164."
        ),
    )
