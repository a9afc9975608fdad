"""The plan report: the seed's worked example, per-stage rates, and actuals beside targets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lifecycle.domain.errors import ValidationFailed

SEED = {"revenue_goal": "100000", "deal_size": "1000", "conversion_rate": "0.5"}
FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


def test_the_seed_example_100000_goal_1000_deals_50_percent_everywhere(report):
    plan = report("plan", **SEED)
    assert plan == {
        "customers": 100, "opportunities": 200, "sqls": 400, "mqls": 800, "leads": 1600,
        "visitors": 3200, "mqls_per_week": pytest.approx(16.67, abs=0.005),
        "reps_needed": pytest.approx(2.08, abs=0.005), "reps_to_hire": 3, "warnings": [],
    }  # fmt: skip


def test_rates_may_be_given_per_stage_and_as_percentages(report):
    plan = report(
        "plan", revenue_goal="100000", deal_size="1000", visitor_to_lead="2%",
        lead_to_mql="0.25", mql_to_sql="50%", sql_to_opportunity="0.5",
        opportunity_to_customer="25%",
    )  # fmt: skip
    stages = ("customers", "opportunities", "sqls", "mqls", "leads", "visitors")
    assert [plan[k] for k in stages] == [100, 400, 800, 1600, 6400, 320000]
    assert plan["mqls_per_week"] == pytest.approx(1600 / 48)
    assert plan["reps_to_hire"] == 5  # 33.3 MQLs a week / 8 per rep = 4.17 reps


def test_one_rate_fills_the_stages_not_given(report):
    plan = report("plan", **SEED, opportunity_to_customer="0.25")
    assert (plan["customers"], plan["opportunities"], plan["sqls"]) == (100, 400, 800)


@pytest.mark.parametrize(
    "options",
    [{"revenue_goal": "100000", "deal_size": "1000"},
     {**SEED, "conversion_rate": "50"},
     {**SEED, "deal_size": "-5"},
     {**SEED, "weeks": "0"}],
)  # fmt: skip
def test_bad_plans_are_refused(report, options):
    with pytest.raises(ValidationFailed):
        report("plan", **options)


def test_with_leads_in_the_store_the_plan_shows_the_actuals_of_the_period(story, report):
    lead = story.lead(2).then("assigned", 3, 10, owner="ana").then("attempted", 3, 11)
    lead.then("responded", 3, 12).then("qualified", 3, 13).then("passed", 3, 14, to_owner="s")
    lead.then("accepted", 3, 15).then("opportunity_created", 3, 16, amount="6000")
    lead.then("won", 4, amount="6000")
    story.lead(5)
    plan = report("plan", **SEED, **FEB)
    assert plan["customers"] == 100  # the targets are unchanged
    assert plan["actuals"] == {
        "from": "2026-02-01T00:00:00Z", "to": "2026-03-01T00:00:00Z", "weeks": 4.0,
        "visitors": None, "leads": 2, "mqls": 1, "sqls": 1, "opportunities": 1,
        "customers": 1, "revenue": 6000, "mqls_per_week": 0.25,
    }  # fmt: skip
    customers = next(s for s in plan["stages"] if s["stage"] == "customers")
    # 4 of 48 weeks: 100 * 4 / 48 = 8.33 customers expected so far; 1 won is 12%
    assert customers == {
        "stage": "customers", "target": 100, "target_for_period": 8.33, "actual": 1,
        "attainment": 0.12,
    }  # fmt: skip
    visitors = next(s for s in plan["stages"] if s["stage"] == "visitors")
    assert (visitors["actual"], visitors["attainment"]) == (None, None)
