"""Reasons: why leads were disqualified, nurtured, lost or marked bad data (seed 003's closed
loop: what marketing needs to fix its targeting).

Each row counts the reasons of one type recorded in the period (`occurred_at`): `count` the
activities, `leads` the distinct leads (a lead disqualified, reopened and disqualified again
for the same reason counts twice, once), `share` the row's part of its type's count in its
group. Reasons are counted as recorded (the same text is the same reason; none given: null).
A timer's auto-nurture is a `nurtured` with reason `auto_nurture` (`projections.reasons`).
Grouped, a row carries its `group`: the lead's source, campaign or region, the owner when the
reason was recorded, or the month it was recorded in. `totals` has every type, zeros included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, distinct, func, null, select

from ...domain.rules import Rulebook
from ..reasons import TYPES, reasons
from . import shapes
from .common import ratio
from .options import GROUPS, Options, Spec

SPEC = Spec(groups=GROUPS)
_r = reasons.c
GROUP_COLUMNS = {
    "source": _r.source,
    "campaign": _r.campaign,
    "month": _r.month,
    "owner": _r.owner,
    "region": _r.region,
}


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.ReasonsBody:
    by = options.group_by
    where = options.period.where(_r.occurred_at)
    leads = func.count(distinct(_r.lead_id))
    keys = [GROUP_COLUMNS[by]] if by else []
    query = (
        select(GROUP_COLUMNS[by] if by else null(), _r.type, _r.reason, func.count(), leads)
        .where(*where)
        .group_by(*keys, _r.type, _r.reason)
    )
    found: list[tuple[Any, str, str | None, int, int]] = [
        (key, kind, reason, int(n), int(m)) for key, kind, reason, n, m in conn.execute(query)
    ]
    per_type: Counter[tuple[Any, str]] = Counter()
    for key, kind, _, n, _ in found:
        per_type[(key, kind)] += n
    # group (none last), type, count descending, reason (none last): the same on both engines
    found.sort(key=lambda f: (f[0] is None, str(f[0]), f[1], -f[3], f[2] is None, f[2] or ""))
    rows: list[shapes.ReasonRow] = []
    for key, kind, reason, n, m in found:
        row: shapes.ReasonRow = {"type": kind, "reason": reason, "count": n, "leads": m,
                                 "share": ratio(n, per_type[(key, kind)])}  # fmt: skip
        rows.append({"group": key, **row} if by else row)
    totals = select(_r.type, func.count(), leads).where(*where).group_by(_r.type)
    counted = {kind: (int(n), int(m)) for kind, n, m in conn.execute(totals)}
    every: list[shapes.ReasonTotal] = []
    for kind in TYPES:
        n, m = counted.get(kind, (0, 0))
        every.append({"type": kind, "count": n, "leads": m})
    return {"group_by": by, **options.period.as_dict(), "rows": rows, "totals": every}
