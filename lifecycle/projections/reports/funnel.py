"""Funnel: leads, MQLs, SQLs, opportunities, customers and won revenue, per group.

Each count is the number of leads *created in the period* that reached at least that stage
(docs/reports.md), so the stages of one row describe one cohort and the conversion rates
between them are true rates. A lead that skipped a stage (accepted by sales before it scored
as an MQL) counts as having reached it. Revenue is the won revenue of the cohort.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, literal, select

from ...domain.rules import Rulebook
from ...domain.values import STAGE_ORDER
from ..facts import lead_facts
from .common import money, ratio
from .options import GROUPS, Options, Spec

SPEC = Spec(groups=GROUPS)
COUNTS = ("leads", "mqls", "sqls", "opportunities", "customers")
# Stage-to-stage conversion (the planner's names) and the whole funnel.
RATES = (
    ("lead_to_mql", "mqls", "leads"),
    ("mql_to_sql", "sqls", "mqls"),
    ("sql_to_opportunity", "opportunities", "sqls"),
    ("opportunity_to_customer", "customers", "opportunities"),
    ("lead_to_customer", "customers", "leads"),
)
GROUP_COLUMNS = {
    "source": lead_facts.c.source,
    "campaign": lead_facts.c.campaign,
    "month": lead_facts.c.created_month,
    "owner": lead_facts.c.owner,
    "region": lead_facts.c.region,
}


def build(conn: Connection, rules: Rulebook, options: Options) -> dict[str, Any]:
    rows = [_row(group, counts) for group, *counts in conn.execute(_query(options))]
    rows.sort(key=lambda row: (row["group"] is None, str(row["group"])))
    if options.group_by is None and not rows:
        rows = [_row("all", [0] * (len(COUNTS) + 1))]
    total = _row("total", [sum(row[k] for row in rows) for k in COUNTS] + [0])
    total["revenue"] = money(sum(row["revenue_cents"] for row in rows))
    for row in (*rows, total):
        del row["revenue_cents"]
    return {"group_by": options.group_by, **options.period.as_dict(), "rows": rows, "total": total}


def _query(options: Options) -> Any:
    facts = lead_facts.c
    group = GROUP_COLUMNS[options.group_by] if options.group_by else literal("all")
    reached = [func.count()] + [
        func.coalesce(func.sum(case((facts.stage_rank >= rank, 1), else_=0)), 0)
        for rank in range(1, len(STAGE_ORDER))
    ]
    revenue = func.coalesce(func.sum(facts.revenue_cents), 0)
    query = select(group.label("grp"), *reached, revenue)
    query = query.where(*options.period.where(facts.created_at))
    return query.group_by(group) if options.group_by else query


def _row(group: Any, values: list[Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"group": group, **dict(zip(COUNTS, map(int, values), strict=False))}
    cents = int(values[len(COUNTS)] or 0)
    row["revenue"], row["revenue_cents"] = money(cents), cents
    for name, part, whole in RATES:
        row[name] = ratio(row[part], row[whole])
    return row
