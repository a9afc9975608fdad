"""Attribution: which sources, campaigns and content get the credit for reaching a goal.

Every lead that reached the goal (created, MQL, SQL, opportunity or customer) in the period
shares 1.0 of credit over its touches at or before that moment, by the chosen model (see
`attribution_models`); for the `customer` goal its won revenue is shared the same way. A lead
that skipped the goal's stage reached it when it entered the next one. The `created` inquiry
counts as a touch. `assists` counts, per content item, the conversions it touched without
being the converting touch's content (seed 003 slide 76, "conversion assists").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from ...domain.rules import Rulebook
from ..attribution_models import Milestones, Touch, assists, credit, eligible
from ..base import moment
from ..facts import lead_facts
from ..touches import touches
from . import shapes
from .common import money
from .options import Options, Spec

SPEC = Spec(accepts=frozenset({"model", "goal"}))
_f = lead_facts.c
GOAL_AT: dict[str, ColumnElement[int]] = {
    "created": _f.created_at,
    "mql": func.coalesce(_f.mql_at, _f.sql_at, _f.opportunity_at, _f.customer_at),
    "sql": func.coalesce(_f.sql_at, _f.opportunity_at, _f.customer_at),
    "opportunity": func.coalesce(_f.opportunity_at, _f.customer_at),
    "customer": _f.customer_at,
}
Key = tuple[str | None, str | None, str | None]  # source, campaign, content


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.AttributionBody:
    with_revenue = options.goal == "customer"
    credits: dict[Key, float] = defaultdict(float)
    revenues: dict[Key, float] = defaultdict(float)
    assisted: Counter[str] = Counter()
    conversions = credited = total_cents = 0
    for lead, goal_at, path in _conversions(conn, options):
        conversions += 1
        total_cents += lead.revenue_cents or 0
        weights = credit(options.model, path, goal_at, _milestones(lead))
        credited += bool(weights)
        for touch, weight in zip(eligible(path, goal_at), weights, strict=True):
            key = (touch.source, touch.campaign, touch.content)
            credits[key] += weight
            revenues[key] += weight * (lead.revenue_cents or 0)
        assisted.update(assists(path, goal_at))
    return {
        "model": options.model.value,
        "goal": options.goal,
        **options.period.as_dict(),
        "conversions": conversions,
        "credited": credited,
        "revenue": money(total_cents) if with_revenue else None,
        "rows": _rows(credits, revenues, with_revenue),
        "by_source": _rollup(credits, revenues, with_revenue, 0),
        "by_campaign": _rollup(credits, revenues, with_revenue, 1),
        "by_content": _rollup(credits, revenues, with_revenue, 2),
        "assists": [{"content": c, "assists": n}
                    for c, n in sorted(assisted.items(), key=lambda i: (-i[1], i[0]))],
    }  # fmt: skip


def _conversions(conn: Connection, options: Options) -> Iterator[tuple[Any, Any, list[Touch]]]:
    """(lead facts, goal time, touches) per converting lead, in lead id order.

    The order is Python's, not the database's (collations differ), so that sums of credit
    are added up in the same order on every engine.
    """
    goal_at = GOAL_AT[options.goal]
    converted = [goal_at.is_not(None), *options.period.where(goal_at)]
    t = touches.c
    paths: dict[str, list[Touch]] = defaultdict(list)
    for row in conn.execute(
        select(t.lead_id, t.occurred_at, t.source, t.campaign, t.content)
        .join(lead_facts, _f.lead_id == t.lead_id)
        .where(*converted)
        .order_by(t.lead_id, t.occurred_at, t.seq)
    ):
        paths[row.lead_id].append(Touch(moment(row.occurred_at), row.source, row.campaign,
                                        row.content))  # fmt: skip
    leads = conn.execute(select(lead_facts, goal_at.label("goal_at")).where(*converted)).all()
    for lead in sorted(leads, key=lambda row: row.lead_id):
        yield lead, moment(lead.goal_at), paths.get(lead.lead_id, [])


def _milestones(lead: Any) -> Milestones:
    def at(value: int | None) -> Any:
        return None if value is None else moment(value)

    return Milestones(moment(lead.created_at), at(lead.mql_at), at(lead.opportunity_at),
                      at(lead.customer_at))  # fmt: skip


def _rows(credits: dict[Key, float], revenues: dict[Key, float], with_revenue: bool) -> list[Any]:
    rows = [
        {"source": key[0], "campaign": key[1], "content": key[2], "credit": round(value, 6),
         "revenue": money(revenues[key]) if with_revenue else None}
        for key, value in credits.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-r["credit"], str(r["source"]), str(r["campaign"]),
                                       str(r["content"])))  # fmt: skip


def _rollup(
    credits: dict[Key, float], revenues: dict[Key, float], with_revenue: bool, index: int
) -> list[Any]:  # fmt: skip  (keyed by the rolled-up column's name)
    name = ("source", "campaign", "content")[index]
    credit_by: dict[str | None, float] = defaultdict(float)
    revenue_by: dict[str | None, float] = defaultdict(float)
    for key, value in credits.items():
        credit_by[key[index]] += value
        revenue_by[key[index]] += revenues[key]
    rows = [
        {name: value, "credit": round(total, 6),
         "revenue": money(revenue_by[value]) if with_revenue else None}
        for value, total in credit_by.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-r["credit"], str(r[name])))
