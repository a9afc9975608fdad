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
from . import shapes
from .common import money, ratio
from .options import GROUPS, Options, Spec

SPEC = Spec(groups=GROUPS)
COUNTS = ("leads", "mqls", "sqls", "opportunities", "customers")
GROUP_COLUMNS = {
    "source": lead_facts.c.source,
    "campaign": lead_facts.c.campaign,
    "month": lead_facts.c.created_month,
    "owner": lead_facts.c.owner,
    "region": lead_facts.c.region,
}


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.FunnelBody:
    found = [(group, [int(n) for n in counts], int(cents or 0))
             for group, *counts, cents in conn.execute(_query(options))]  # fmt: skip
    found.sort(key=lambda item: (item[0] is None, str(item[0])))
    if options.group_by is None and not found:
        found = [("all", [0] * len(COUNTS), 0)]
    sums = [sum(counts[i] for _, counts, _ in found) for i in range(len(COUNTS))]
    total = _row("total", sums, sum(cents for _, _, cents in found))
    rows = [_row(group, counts, cents) for group, counts, cents in found]
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


def _row(group: Any, counts: list[int], cents: int) -> shapes.FunnelRow:
    leads, mqls, sqls, opportunities, customers = counts
    return {
        "group": group, "leads": leads, "mqls": mqls, "sqls": sqls,
        "opportunities": opportunities, "customers": customers, "revenue": money(cents),
        "lead_to_mql": ratio(mqls, leads), "mql_to_sql": ratio(sqls, mqls),
        "sql_to_opportunity": ratio(opportunities, sqls),
        "opportunity_to_customer": ratio(customers, opportunities),
        "lead_to_customer": ratio(customers, leads),
    }  # fmt: skip
