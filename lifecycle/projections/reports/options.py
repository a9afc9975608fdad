"""Report options: parsed and checked once, the same for the CLI and the HTTP API.

Values may come typed (Python callers) or as text (query strings, command lines). A bad value
raises `ValidationFailed` naming the option, which both front ends already turn into the
`validation_error` answer (HTTP 422, exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ...domain.errors import ValidationFailed
from ...domain.inputs import check_time
from ..attribution_models import Model
from ..planner import StageRates
from .common import Period

GROUPS = ("source", "campaign", "month", "owner", "region")
GOALS = ("created", "mql", "sql", "opportunity", "customer")
STAGE_RATES = tuple(StageRates.__dataclass_fields__)


@dataclass(frozen=True)
class PlanInputs:
    revenue_goal: Decimal
    deal_size: Decimal
    rates: StageRates | Decimal
    weeks: int = 48
    mqls_per_rep_week: float = 8.0


@dataclass(frozen=True, kw_only=True)
class Options:
    now: datetime  # the time of the question: deadlines and current stays are judged at it
    period: Period = field(default_factory=Period)
    group_by: str | None = None
    model: Model = Model.FIRST_TOUCH
    goal: str = "customer"
    per_lead: bool = True
    plan: PlanInputs | None = None


@dataclass(frozen=True)
class Spec:
    """What a report accepts besides the period: its group-by values and its own options."""

    groups: tuple[str, ...] = ()
    default_group: str | None = None
    accepts: frozenset[str] = frozenset()


def parse(spec: Spec, given: Mapping[str, Any], asked_at: datetime) -> Options:
    """Options from keyword values; None means "not given". Refuses what the report ignores.

    `asked_at` is when the question is asked (the caller's clock): `now` unless given."""
    values = {key: value for key, value in given.items() if value is not None}
    values["start"] = values.pop("from", values.get("start"))
    values["end"] = values.pop("to", values.get("end"))
    known = {"start", "end", "now", "group_by", *spec.accepts}
    unknown = sorted(key for key, value in values.items() if value is not None and key not in known)
    if unknown:
        raise ValidationFailed(
            f"unknown or inapplicable option {unknown[0]!r}",
            fields=dict.fromkeys(unknown, "not accepted by this report"),
        )
    group_by = values.get("group_by") or spec.default_group
    if group_by is not None and group_by not in spec.groups:
        if not spec.groups:
            raise ValidationFailed("this report has no --group-by",
                                   fields={"group_by": "not accepted by this report"})  # fmt: skip
        allowed = ", ".join(spec.groups)
        raise ValidationFailed(f"this report groups by {allowed}, not {group_by!r}",
                               fields={"group_by": f"one of: {allowed}"})  # fmt: skip
    return Options(
        period=Period(_time(values, "start"), _time(values, "end")),
        group_by=group_by,
        model=_choice(values, "model", Model, Model.FIRST_TOUCH),
        goal=_goal(values),
        now=_time(values, "now") or asked_at,
        per_lead=_flag(values.get("per_lead", True)),
        plan=_plan(values) if "revenue_goal" in spec.accepts else None,
    )


PLAN_OPTIONS = frozenset(
    {"revenue_goal", "deal_size", "conversion_rate", "weeks", "mqls_per_rep_week", *STAGE_RATES}
)


def _time(values: Mapping[str, Any], name: str) -> datetime | None:
    value = values.get(name)
    if value is None or isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise _bad(name, "an ISO-8601 time such as 2026-01-05T00:00:00Z") from None
    if moment is None:
        return None
    if moment.utcoffset() is None:
        raise _bad(name, "a time with a UTC offset (add Z or +hh:mm)")
    try:
        return check_time(moment)
    except ValueError as error:
        raise _bad(name, f"a time that {str(error).removeprefix('must ')}") from None


def _choice(values: Mapping[str, Any], name: str, kind: type[Model], default: Model) -> Model:
    value = values.get(name)
    if value is None:
        return default
    try:
        return kind(value.value if isinstance(value, Model) else str(value))
    except ValueError:
        raise _bad(name, "one of " + ", ".join(m.value for m in kind)) from None


def _goal(values: Mapping[str, Any]) -> str:
    goal = str(values.get("goal", "customer"))
    if goal not in GOALS:
        raise _bad("goal", "one of " + ", ".join(GOALS))
    return goal


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


def _plan(values: Mapping[str, Any]) -> PlanInputs:
    rate = _number(values, "conversion_rate", Decimal, rate=True)
    stages = {name: _number(values, name, Decimal, rate=True) for name in STAGE_RATES}
    if rate is None and any(value is None for value in stages.values()):
        missing = [name for name, value in stages.items() if value is None]
        raise ValidationFailed(
            "give --conversion-rate, or a rate for every stage",
            fields={
                "conversion_rate": "required unless every stage rate is given",
                **dict.fromkeys(missing, "missing"),
            },
        )
    rates: StageRates | Decimal
    if all(value is None for value in stages.values()):
        assert rate is not None
        rates = rate
    else:
        rates = StageRates(**{name: value or rate for name, value in stages.items()})
    goal = _number(values, "revenue_goal", Decimal)
    deal = _number(values, "deal_size", Decimal)
    if goal is None or deal is None:
        raise ValidationFailed("the plan needs --revenue-goal and --deal-size",
                               fields={k: "required" for k in ("revenue_goal", "deal_size")
                                       if values.get(k) is None})  # fmt: skip
    weeks = _number(values, "weeks", int)
    capacity = _number(values, "mqls_per_rep_week", float)
    return PlanInputs(
        goal, deal, rates, 48 if weeks is None else weeks, 8.0 if capacity is None else capacity
    )


def _number(values: Mapping[str, Any], name: str, kind: Callable[[Any], Any],
            rate: bool = False) -> Any:  # fmt: skip
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip()
    percent = rate and text.endswith("%")
    try:
        number = kind(text.rstrip("%").strip() if percent else text)
    except (ValueError, InvalidOperation, ArithmeticError):
        raise _bad(name, "a number") from None
    if percent:
        number = number / 100
    if rate and not 0 < number <= 1:
        raise _bad(name, "a conversion rate in (0, 1], e.g. 0.5 or 50%")
    return number


def _bad(name: str, expected: str) -> ValidationFailed:
    return ValidationFailed(
        f"{name.replace('_', '-')}: expected {expected}", fields={name: expected}
    )
