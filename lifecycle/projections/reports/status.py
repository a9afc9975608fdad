"""Status board: how many leads are in each status now, overall and per owner (or group).

The period selects leads by creation time; the status is the current one. Every status is
listed, zeros included, so the board keeps its shape from one day to the next.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, func, select

from ...domain.rules import Rulebook
from ...domain.values import STAGE_ORDER, Status
from ..facts import lead_facts
from . import shapes
from .funnel import GROUP_COLUMNS
from .options import GROUPS, Options, Spec

SPEC = Spec(groups=GROUPS, default_group="owner")


def build(conn: Connection, rules: Rulebook, options: Options) -> shapes.StatusBody:
    facts = lead_facts.c
    group = GROUP_COLUMNS[options.group_by or "owner"]
    query = (
        select(group, facts.status, facts.stage, func.count())
        .where(*options.period.where(facts.created_at))
        .group_by(group, facts.status, facts.stage)
    )
    statuses: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    groups: dict[Any, Counter[str]] = {}
    for key, status, stage, count in conn.execute(query):
        statuses[status] += count
        stages[stage] += count
        groups.setdefault(key, Counter())[status] += count
    names = [status.value for status in Status]
    return {
        "group_by": options.group_by,
        **options.period.as_dict(),
        "rows": [{"status": name, "count": statuses[name]} for name in names],
        "stages": [{"stage": stage.value, "count": stages[stage.value]} for stage in STAGE_ORDER],
        "groups": [
            {"group": key, **{name: counts[name] for name in names}, "total": counts.total()}
            for key, counts in sorted(groups.items(), key=lambda item: _order(item[0]))
        ],
        "total": statuses.total(),
    }


def _order(key: Any) -> tuple[bool, str]:
    return key is None, str(key)
