"""The funnel report on a hand-built history; every number below is counted by hand.

    lead  created   source/campaign  region  path                                   owner now
    L1    Feb 2     web / spring     emea    qualified, passed, accepted, opp, won 6000   sam
    L2    Feb 3     web / spring     na      demo request (score 5+15=20: MQL)           ana
    L3    Feb 10    ads / winter     na      qualified, passed, accepted, opp, lost      carol
    L4    Jan 20    ads / winter     na      qualified, passed, accepted, opp, won 3000  sam
    L5    Feb 20    (none)           (none)  nothing                                     (none)

L1, L3 and L4 were accepted by sales without ever scoring as MQLs: they still count as having
reached the MQL stage.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


def sold(lead, day, owner, to_owner, won=None):
    lead.then("assigned", day, 10, owner=owner).then("attempted", day, 11)
    lead.then("responded", day, 12).then("qualified", day, 13)
    lead.then("passed", day, 14, to_owner=to_owner).then("accepted", day, 15)
    lead.then("opportunity_created", day, 16, amount="5000")
    if won:
        lead.then("won", day + 1, amount=won)
    else:
        lead.then("lost", day + 1)


@pytest.fixture
def history(story):
    sold(story.lead(2, source="web", campaign="spring", region="emea"), 2, "ana", "sam", "6000")
    l2 = story.lead(3, source="web", campaign="spring", region="na")
    l2.then("touched", 3, 10, kind="demo_request").then("assigned", 3, 11, owner="ana")
    sold(story.lead(10, source="ads", campaign="winter", region="na"), 10, "bob", "carol")
    sold(story.lead(-11, source="ads", campaign="winter", region="na"), -11, "bob", "sam", "3000")
    story.lead(20)


def test_the_funnel_counts_the_leads_created_in_the_period_by_the_furthest_stage_they_reached(
    history, report
):
    funnel = report("funnel", group_by="source", **FEB)
    assert funnel["group_by"] == "source"
    counts = [
        {k: row[k] for k in ("group", "leads", "mqls", "sqls", "opportunities", "customers")}
        for row in funnel["rows"]
    ]
    assert counts == [
        {"group": "ads", "leads": 1, "mqls": 1, "sqls": 1, "opportunities": 1, "customers": 0},
        {"group": "web", "leads": 2, "mqls": 2, "sqls": 1, "opportunities": 1, "customers": 1},
        {"group": None, "leads": 1, "mqls": 0, "sqls": 0, "opportunities": 0, "customers": 0},
    ]
    assert [row["revenue"] for row in funnel["rows"]] == [0, 6000, 0]


def test_stage_to_stage_conversion_rates_are_computed_per_group(history, report):
    web = next(row for row in report("funnel", group_by="source", **FEB)["rows"]
               if row["group"] == "web")  # fmt: skip
    assert web["lead_to_mql"] == 1.0
    assert web["mql_to_sql"] == 0.5
    assert web["sql_to_opportunity"] == 1.0
    assert web["opportunity_to_customer"] == 1.0
    assert web["lead_to_customer"] == 0.5


def test_a_rate_with_nothing_to_convert_is_null(history, report):
    none = report("funnel", group_by="source", **FEB)["rows"][-1]
    assert none["lead_to_mql"] == 0.0
    assert none["mql_to_sql"] is None


def test_the_total_adds_up_the_groups(history, report):
    total = report("funnel", group_by="campaign", **FEB)["total"]
    assert (total["leads"], total["mqls"], total["sqls"]) == (4, 3, 2)
    assert (total["opportunities"], total["customers"], total["revenue"]) == (2, 1, 6000)
    assert total["mql_to_sql"] == round(2 / 3, 4)


def test_without_a_period_every_lead_counts(history, report):
    (row,) = report("funnel")["rows"]
    assert row["group"] == "all"
    assert (row["leads"], row["customers"], row["revenue"]) == (5, 2, 9000)


def test_the_funnel_groups_by_month_of_creation(history, report):
    rows = report("funnel", group_by="month")["rows"]
    assert [(r["group"], r["leads"], r["revenue"]) for r in rows] == [
        ("2026-01", 1, 3000),
        ("2026-02", 4, 6000),
    ]


def test_the_funnel_groups_by_current_owner_and_by_region(history, report):
    owners = report("funnel", group_by="owner")["rows"]
    assert [(r["group"], r["leads"], r["customers"]) for r in owners] == [
        ("ana", 1, 0), ("carol", 1, 0), ("sam", 2, 2), (None, 1, 0),
    ]  # fmt: skip
    regions = report("funnel", group_by="region", **FEB)["rows"]
    assert [(r["group"], r["leads"]) for r in regions] == [("emea", 1), ("na", 2), (None, 1)]
