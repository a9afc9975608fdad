"""Time in status and stage: how many leads entered and left each, how long they stayed.

For each status and stage: `entered` and `exited` count the stays that began and ended in the
period, `median_hours` and `p90_hours` are over the finished stays that began in the period,
and `current` counts the leads in it now (whatever the period). Finished stays come from
`status_spans`; a lead's current stay is its facts row.

`leads` gives HubSpot's per-lead properties for the leads created in the period: for each
status and stage, the date it was first entered, the date it was last exited (null while the
lead is still in it), the latest stay and the cumulative time in it, in hours (a current stay
counts up to `now`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ...domain.rules import Rulebook
from ...domain.values import STAGE_ORDER, Status
from ..base import micros
from ..facts import lead_facts, status_spans
from . import shapes
from .common import elapsed_hours, hours, percentile, utc
from .options import Options, Spec

SPEC = Spec(accepts=frozenset({"per_lead"}))
KINDS = {"status": [s.value for s in Status], "stage": [s.value for s in STAGE_ORDER]}

Stay = tuple[str, str, int, int | None]  # kind, value, entered_at, exited_at (None: current)


@dataclass
class _Summary:
    entered: int = 0
    exited: int = 0
    current: int = 0
    durations: list[float] = field(default_factory=list)

    def as_dict(self) -> shapes.Stays:
        return {
            "entered": self.entered, "exited": self.exited, "current": self.current,
            "median_hours": hours(percentile(self.durations, 0.5)),
            "p90_hours": hours(percentile(self.durations, 0.9)),
        }  # fmt: skip


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.TimeInStatusBody:
    summary = {(kind, value): _Summary() for kind, values in KINDS.items() for value in values}
    period = options.period
    for kind, value, entered, exited in _finished(conn, options):
        item = summary[(kind, value)]
        if period.contains(entered):
            item.entered += 1
            item.durations.append(elapsed_hours(entered, exited))
        if period.contains(exited):
            item.exited += 1
    for kind, value, entered in _current(conn):
        item = summary[(kind, value)]
        item.current += 1
        item.entered += period.contains(entered)
    bounds = period.as_dict()
    result: shapes.TimeInStatusBody = {
        "from": bounds["from"],
        "to": bounds["to"],
        "now": utc(options.now),
        "statuses": [{"status": v, **summary[("status", v)].as_dict()} for v in KINDS["status"]],
        "stages": [{"stage": v, **summary[("stage", v)].as_dict()} for v in KINDS["stage"]],
    }
    if options.per_lead:
        result["leads"] = _per_lead(conn, options)
    return result


def _finished(conn: Connection, options: Options) -> Any:
    s = status_spans.c
    query = select(s.kind, s.value, s.entered_at, s.exited_at)
    entered, exited = options.period.where(s.entered_at), options.period.where(s.exited_at)
    if entered:
        query = query.where(or_(and_(*entered), and_(*exited)))
    return conn.execute(query)


def _current(conn: Connection) -> list[tuple[str, str, int]]:
    f = lead_facts.c
    stays = []
    for status, status_since, stage, stage_since in conn.execute(
        select(f.status, f.status_since, f.stage, f.stage_since)
    ):
        stays += [("status", status, status_since), ("stage", stage, stage_since)]
    return stays


def _per_lead(conn: Connection, options: Options) -> list[shapes.LeadStays]:
    f, s = lead_facts.c, status_spans.c
    created = options.period.where(f.created_at)
    stays: list[tuple[str, Stay]] = [
        (lead, (kind, value, entered, exited))
        for lead, kind, value, entered, exited in conn.execute(
            select(s.lead_id, s.kind, s.value, s.entered_at, s.exited_at)
            .join(lead_facts, f.lead_id == s.lead_id)
            .where(*created)
        )
    ]
    for lead, status, status_since, stage, stage_since in conn.execute(
        select(f.lead_id, f.status, f.status_since, f.stage, f.stage_since).where(*created)
    ):
        stays += [(lead, ("status", status, status_since, None)),
                  (lead, ("stage", stage, stage_since, None))]  # fmt: skip
    stays.sort(key=lambda item: (item[0], item[1][0], item[1][2], item[1][3] is None))
    now = micros(options.now)
    leads: list[shapes.LeadStays] = []
    for lead, group in groupby(stays, key=lambda item: item[0]):
        statuses, stages = _properties([stay for _, stay in group], now)
        leads.append({"lead_id": lead, "statuses": statuses, "stages": stages})
    return leads


def _properties(stays: list[Stay], now: int) -> tuple[dict[str, shapes.Stay], ...]:
    """The lead's statuses and stages."""
    result: dict[str, dict[str, shapes.Stay]] = {"statuses": {}, "stages": {}}
    totals: dict[tuple[str, str], float] = {}
    for kind, value, entered, exited in stays:  # in order of entry
        section = result["statuses" if kind == "status" else "stages"]
        latest = elapsed_hours(entered, now if exited is None else exited)
        totals[(kind, value)] = totals.get((kind, value), 0.0) + latest
        first = section[value]["entered_at"] if value in section else utc(entered)
        section[value] = {
            "entered_at": first, "exited_at": utc(exited), "latest_hours": hours(latest),
            "cumulative_hours": hours(totals[(kind, value)]),
        }  # fmt: skip
    return result["statuses"], result["stages"]
