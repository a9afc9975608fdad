"""Sales activity: how deeply leads are worked, and how much each owner does per week.

Seed 003 (slide 86) asks "how many and how deeply leads are worked": `depth` is the
distribution of contact attempts over the leads created in the period that were assigned.
`weekly` counts attempts per owner, ISO week (UTC) and channel. `owners` checks the seed 000
targets — at least 30 emails a week and 15 dials (calls) a month — for every week and month
of the period (or, without one, from the first to the last attempt), so a week without a
single email is a missed week, not a missing row; weeks and months cut by the period's ends
count as whole ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from ...domain.rules import Rulebook
from ...domain.values import Channel
from ..base import micros, moment
from ..facts import attempts, lead_facts
from . import shapes
from .common import ratio
from .options import Options, Spec

SPEC = Spec(groups=("owner",), default_group="owner")
EMAILS_PER_WEEK = 30
DIALS_PER_MONTH = 15
DEEPEST = 6  # depth buckets 0..5 attempts, then "6+" (the cadence asks for 5)
CHANNELS = [channel.value for channel in Channel]


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.ActivityBody:
    a = attempts.c
    query = (
        select(a.owner, a.week, a.month, a.channel, func.count(), func.min(a.occurred_at),
               func.max(a.occurred_at))
        .where(*options.period.where(a.occurred_at))
        .group_by(a.owner, a.week, a.month, a.channel)
    )  # fmt: skip
    weekly: dict[tuple[Any, str], Counter[str]] = defaultdict(Counter)
    monthly: dict[tuple[Any, str], Counter[str]] = defaultdict(Counter)
    first, last = None, None
    for owner, week, month, channel, count, earliest, latest in conn.execute(query):
        weekly[(owner, week)][channel] += count
        monthly[(owner, month)][channel] += count
        first = earliest if first is None else min(first, earliest)
        last = latest if last is None else max(last, latest)
    weeks, months = _calendar(options, first, last)
    return {
        **options.period.as_dict(),
        "targets": {"emails_per_week": EMAILS_PER_WEEK, "dials_per_month": DIALS_PER_MONTH},
        **_depth(conn, options),
        "weekly": [
            {
                "owner": owner,
                "week": week,
                **{c: counts[c] for c in CHANNELS},
                "total": counts.total(),
            }
            for (owner, week), counts in sorted(weekly.items(), key=_order)
        ],
        "owners": _owners(weekly, monthly, weeks, months),
    }


def _depth(conn: Connection, options: Options) -> shapes.DepthSummary:
    facts = lead_facts.c
    query = (
        select(facts.attempts, func.count())
        .where(facts.assigned_at.is_not(None), *options.period.where(facts.created_at))
        .group_by(facts.attempts)
    )
    buckets: Counter[int] = Counter()
    made = 0
    for count, leads in conn.execute(query):
        buckets[min(count, DEEPEST)] += leads
        made += count * leads
    total = buckets.total()
    return {
        "leads_worked": total,
        "mean_attempts": ratio(made, total, 2),
        "depth": [
            {
                "attempts": str(n) if n < DEEPEST else f"{DEEPEST}+",
                "leads": buckets[n],
                "share": ratio(buckets[n], total),
            }
            for n in range(DEEPEST + 1)
        ],
    }


def _owners(
    weekly: dict[tuple[Any, str], Counter[str]],
    monthly: dict[tuple[Any, str], Counter[str]],
    weeks: list[str],
    months: list[str],
) -> list[shapes.OwnerActivity]:
    names = sorted({owner for owner, _ in weekly if owner is not None})
    rows: list[shapes.OwnerActivity] = []
    for owner in names:
        emails = [weekly.get((owner, week), Counter())["email"] for week in weeks]
        dials = [monthly.get((owner, month), Counter())["call"] for month in months]
        met_weeks = sum(count >= EMAILS_PER_WEEK for count in emails)
        met_months = sum(count >= DIALS_PER_MONTH for count in dials)
        rows.append({
            "owner": owner,
            "attempts": sum(c.total() for (o, _), c in weekly.items() if o == owner),
            "emails": sum(emails), "dials": sum(dials),
            "weeks": len(weeks), "email_weeks_met": met_weeks,
            "email_weeks_missed": len(weeks) - met_weeks,
            "months": len(months), "dial_months_met": met_months,
            "dial_months_missed": len(months) - met_months,
            "emails_by_week": dict(zip(weeks, emails, strict=True)),
            "dials_by_month": dict(zip(months, dials, strict=True)),
        })  # fmt: skip
    return rows


def _calendar(options: Options, first: int | None, last: int | None) -> tuple[list[str], list[str]]:
    """The ISO weeks and the months from the period's start to its end (or the data's)."""
    start = options.period.start or (moment(first) if first is not None else None)
    end = options.period.end
    end_day = (end - timedelta(microseconds=1)) if end else (moment(last) if last else None)
    if start is None or end_day is None:
        return [], []
    first_day = moment(micros(start)).date()
    last_day = moment(micros(end_day)).date()
    monday = first_day - timedelta(days=first_day.weekday())
    weeks = []
    while monday <= last_day:
        year, week, _ = monday.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        monday += timedelta(days=7)
    months = []
    month = date(first_day.year, first_day.month, 1)
    while month <= last_day:
        months.append(month.strftime("%Y-%m"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return weeks, months


def _order(item: tuple[tuple[Any, str], Any]) -> tuple[bool, str, str]:
    (owner, period), _ = item
    return owner is None, str(owner), period
