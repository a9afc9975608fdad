from __future__ import annotations

from decimal import Decimal

import pytest

from lifecycle.projections.planner import Plan, StageRates, plan

HALF = Decimal("0.5")
CONTRACT_KEYS = [
    "customers",
    "opportunities",
    "sqls",
    "mqls",
    "leads",
    "visitors",
    "mqls_per_week",
    "reps_needed",
    "reps_to_hire",
]
STAGES = [
    "visitor_to_lead",
    "lead_to_mql",
    "mql_to_sql",
    "sql_to_opportunity",
    "opportunity_to_customer",
]


def seed_plan() -> Plan:
    """Seed 003 slides 64-71: $100,000 goal, $1,000 deals, 50% at every stage."""
    return plan(Decimal("100000"), Decimal("1000"), HALF)


def funnel(p: Plan) -> list[int]:
    return [p.customers, p.opportunities, p.sqls, p.mqls, p.leads, p.visitors]


# The seed's worked example


def test_the_seed_example_needs_100_200_400_800_1600_3200_from_customers_to_visitors() -> None:
    assert funnel(seed_plan()) == [100, 200, 400, 800, 1600, 3200]


def test_the_seed_example_needs_800_over_48_mqls_a_week() -> None:
    assert seed_plan().mqls_per_week == pytest.approx(50 / 3)  # 16.67


def test_the_seed_example_needs_2_08_reps_reviewing_8_mqls_a_week() -> None:
    assert seed_plan().reps_needed == pytest.approx(25 / 12)  # 2.08


def test_the_seed_example_hires_3_reps() -> None:
    assert seed_plan().reps_to_hire == 3


# Rates per stage and rounding


def test_per_stage_rates_apply_each_to_its_own_stage() -> None:
    rates = StageRates(
        visitor_to_lead=Decimal("0.02"),
        lead_to_mql=Decimal("0.2"),
        mql_to_sql=Decimal("0.4"),
        sql_to_opportunity=Decimal("0.5"),
        opportunity_to_customer=Decimal("0.25"),
    )
    result = plan(Decimal("50000"), Decimal("2500"), rates)
    assert funnel(result) == [20, 80, 160, 400, 2000, 100_000]


def test_counts_round_up_at_every_stage_before_the_next_is_worked_out() -> None:
    # 3.33 -> 4 customers; 4/0.3 = 13.33 -> 14; 46.67 -> 47; 156.67 -> 157; 523.33 -> 524;
    # 1746.67 -> 1747 (rounding once at the end would give 1647).
    result = plan(Decimal("10000"), Decimal("3000"), Decimal("0.3"))
    assert funnel(result) == [4, 14, 47, 157, 524, 1747]


def test_a_goal_that_is_a_whole_number_of_deals_needs_no_extra_customer() -> None:
    assert plan(Decimal("9000"), Decimal("3000"), Decimal("1")).customers == 3


def test_a_rate_of_one_needs_the_same_count_at_every_stage() -> None:
    assert funnel(plan(Decimal("5000"), Decimal("1000"), Decimal("1"))) == [5] * 6


def test_reps_needed_is_exact_and_not_rounded() -> None:
    result = plan(Decimal("100000"), Decimal("1000"), HALF, weeks=50, mqls_per_rep_week=5)
    assert (result.mqls_per_week, result.reps_needed, result.reps_to_hire) == (16, 3.2, 4)


def test_a_whole_number_of_reps_needed_hires_exactly_that_many() -> None:
    result = plan(Decimal("50000"), Decimal("2500"), Decimal("1"), weeks=10, mqls_per_rep_week=2)
    assert (result.reps_needed, result.reps_to_hire) == (1.0, 1)


def test_float_noise_does_not_hire_an_extra_rep() -> None:
    # 840 MQLs over 50 weeks is 16.8 a week, exactly 3 reps of 5.6; floats say 3.0000000000000004.
    result = plan(Decimal("105000"), Decimal("1000"), HALF, weeks=50, mqls_per_rep_week=5.6)
    assert (result.mqls, result.reps_needed, result.reps_to_hire) == (840, 3.0, 3)


# The contract's JSON


def test_as_dict_has_exactly_the_contract_keys_in_order() -> None:
    assert list(seed_plan().as_dict()) == CONTRACT_KEYS


def test_as_dict_carries_the_plan_values() -> None:
    values = seed_plan().as_dict()
    assert (values["visitors"], values["reps_to_hire"]) == (3200, 3)


def test_uniform_stage_rates_plan_like_a_single_rate() -> None:
    assert plan(Decimal("100000"), Decimal("1000"), StageRates.uniform(HALF)) == seed_plan()


# Validation


@pytest.mark.parametrize("goal", [Decimal("0"), Decimal("-1"), Decimal("NaN"), Decimal("Inf")])
def test_a_revenue_goal_that_is_not_a_positive_amount_is_rejected(goal: Decimal) -> None:
    with pytest.raises(ValueError, match="revenue_goal"):
        plan(goal, Decimal("1000"), HALF)


@pytest.mark.parametrize("deal_size", [Decimal("0"), Decimal("-1000"), Decimal("NaN")])
def test_a_deal_size_that_is_not_a_positive_amount_is_rejected(deal_size: Decimal) -> None:
    with pytest.raises(ValueError, match="deal_size"):
        plan(Decimal("100000"), deal_size, HALF)


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-0.5"), Decimal("1.01"), Decimal("NaN")])
def test_a_single_rate_outside_0_to_1_is_rejected(rate: Decimal) -> None:
    with pytest.raises(ValueError, match="rates"):
        plan(Decimal("100000"), Decimal("1000"), rate)


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_rate_outside_0_to_1_is_rejected_by_name(stage: str) -> None:
    rates = dict.fromkeys(STAGES, HALF) | {stage: Decimal("1.5")}
    with pytest.raises(ValueError, match=stage):
        StageRates(**rates)


@pytest.mark.parametrize("weeks", [0, -4])
def test_fewer_than_one_week_is_rejected(weeks: int) -> None:
    with pytest.raises(ValueError, match="weeks"):
        plan(Decimal("100000"), Decimal("1000"), HALF, weeks=weeks)


@pytest.mark.parametrize("capacity", [0, -8, float("nan"), float("inf")])
def test_a_rep_capacity_that_is_not_a_positive_number_is_rejected(capacity: float) -> None:
    with pytest.raises(ValueError, match="mqls_per_rep_week"):
        plan(Decimal("100000"), Decimal("1000"), HALF, mqls_per_rep_week=capacity)


@pytest.mark.parametrize(
    ("goal", "capacity"),
    [("100000", 5e-324),  # reps needed beyond any float (issue 14: OverflowError, a 500)
     ("1e300", 8.0),  # visitors beyond any float
     ("1e308", 1e-300)],
)  # fmt: skip
def test_a_plan_too_large_for_a_json_number_is_rejected(goal: str, capacity: float) -> None:
    with pytest.raises(ValueError, match="too large"):
        plan(Decimal(goal), Decimal("0.01"), Decimal("0.0001"), mqls_per_rep_week=capacity)


def test_the_largest_plan_a_float_holds_is_computed() -> None:
    """Just under the limit: 1e300 visitors and 1e300 / 48 / 1e-7 reps."""
    result = plan(Decimal("1e300"), Decimal("1"), Decimal("1"), mqls_per_rep_week=1e-7)
    assert result.visitors == 10**300
    assert result.reps_needed == pytest.approx(1e300 / 48 / 1e-7)
