from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.projections.attribution_models import (
    Milestones,
    Model,
    Touch,
    assists,
    credit,
    eligible,
)

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
POSITION_MODELS = [m for m in Model if m is not Model.TIME_DECAY]
ANCHOR_MODELS = [Model.U_SHAPED, Model.W_SHAPED, Model.FULL_PATH]


def touch_on(day: float, content: str | None = None, source: str | None = "organic") -> Touch:
    return Touch(START + timedelta(days=day), source=source, campaign=None, content=content)


def days(*offsets: float) -> list[Touch]:
    return [touch_on(day, content=f"c{i}") for i, day in enumerate(offsets)]


def on_day(day: float) -> datetime:
    return START + timedelta(days=day)


def percent(weights: list[float]) -> list[float]:
    return [round(100 * w, 2) for w in weights]


FIVE = days(0, 1, 2, 3, 4)
GOAL = on_day(10)
CREATED_ON_THIRD = Milestones(created_at=on_day(2))
CREATED_ON_FIRST = Milestones(created_at=on_day(0))


# First touch, last touch, linear


def test_first_touch_gives_all_credit_to_the_first_touch() -> None:
    assert credit(Model.FIRST_TOUCH, FIVE, GOAL, CREATED_ON_THIRD) == [1, 0, 0, 0, 0]


def test_last_touch_gives_all_credit_to_the_last_eligible_touch() -> None:
    assert credit(Model.LAST_TOUCH, FIVE, on_day(3), CREATED_ON_THIRD) == [0, 0, 0, 1]


def test_linear_gives_every_touch_the_same_share() -> None:
    assert credit(Model.LINEAR, days(0, 1, 2, 3), GOAL, CREATED_ON_THIRD) == [0.25] * 4


# The issue's worked example: organic (first) -> webinar (the `created` inquiry) -> content ->
# paid (the last touch before the opportunity was created) -> email; won 1000.

ISSUE_PATH = [touch_on(day, source=source) for day, source in
              enumerate(["organic", "webinar", "content", "paid", "email"])]  # fmt: skip
ISSUE_MILESTONES = Milestones(
    created_at=on_day(1), opportunity_at=on_day(3.5), customer_at=on_day(5)
)


@pytest.mark.parametrize(
    ("model", "revenue"),
    [
        (Model.FIRST_TOUCH, [1000, 0, 0, 0, 0]),
        (Model.LAST_TOUCH, [0, 0, 0, 0, 1000]),
        (Model.LINEAR, [200, 200, 200, 200, 200]),
        (Model.U_SHAPED, [400, 400, 66.67, 66.67, 66.67]),
        (Model.W_SHAPED, [300, 300, 50, 300, 50]),
        (Model.FULL_PATH, [225, 225, 100, 225, 225]),
    ],
)
def test_the_issue_worked_example_shares_1000_by_the_hubspot_definitions(
    model: Model, revenue: list[float]
) -> None:
    weights = credit(model, ISSUE_PATH, on_day(5), ISSUE_MILESTONES)
    assert [round(1000 * w, 2) for w in weights] == revenue


# U-shaped


def test_u_shaped_anchors_on_the_lead_creation_touch_not_the_conversion_touch() -> None:
    weights = credit(Model.U_SHAPED, FIVE, GOAL, CREATED_ON_THIRD)
    assert weights == pytest.approx([0.4, 0.2 / 3, 0.4, 0.2 / 3, 0.2 / 3])


def test_u_shaped_with_creation_on_the_first_touch_merges_the_two_anchors_and_rescales() -> None:
    # 0.4 for the merged anchor, 0.05 for each of the 4 others; scaled by 1 / 0.6
    weights = credit(Model.U_SHAPED, FIVE, GOAL, CREATED_ON_FIRST)
    assert weights == pytest.approx([2 / 3, 1 / 12, 1 / 12, 1 / 12, 1 / 12])


def test_u_shaped_for_the_created_goal_anchors_on_the_creating_conversion_touch() -> None:
    weights = credit(Model.U_SHAPED, FIVE, on_day(4), Milestones(created_at=on_day(4)))
    assert percent(weights) == [40, 6.67, 6.67, 6.67, 40]


def test_u_shaped_drops_a_vacant_creation_role_when_no_touch_precedes_creation() -> None:
    weights = credit(Model.U_SHAPED, FIVE, GOAL, Milestones(created_at=on_day(-1)))
    assert weights == pytest.approx([2 / 3, 1 / 12, 1 / 12, 1 / 12, 1 / 12])


def test_u_shaped_creation_after_the_goal_is_a_vacant_role() -> None:
    # eligible: days 0, 1, 2; anchors {first}: 0.4, 0.1, 0.1 scaled by 1 / 0.6
    weights = credit(Model.U_SHAPED, FIVE, on_day(2), Milestones(created_at=on_day(3)))
    assert weights == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_u_shaped_with_three_touches_and_creation_on_the_second_gives_40_40_20() -> None:
    weights = credit(Model.U_SHAPED, days(0, 1, 2), GOAL, Milestones(created_at=on_day(1)))
    assert weights == pytest.approx([0.4, 0.4, 0.2])


# W-shaped


def test_w_shaped_does_not_anchor_the_closing_touch() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(2.5))
    weights = credit(Model.W_SHAPED, FIVE, GOAL, milestones)
    assert weights == pytest.approx([0.3, 0.3, 0.3, 0.05, 0.05])


def test_w_shaped_merges_a_creation_touch_that_is_the_first_touch_and_rescales() -> None:
    # anchors 0 and 3 at 0.3, others 0.1 / 3 each; scaled by 1 / 0.7
    milestones = Milestones(created_at=on_day(0), opportunity_at=on_day(3))
    weights = credit(Model.W_SHAPED, FIVE, GOAL, milestones)
    assert weights == pytest.approx([3 / 7, 1 / 21, 1 / 21, 3 / 7, 1 / 21])


def test_w_shaped_merges_an_opportunity_touch_that_is_the_creation_touch() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(1.5))
    weights = credit(Model.W_SHAPED, FIVE, GOAL, milestones)
    assert weights == pytest.approx([3 / 7, 3 / 7, 1 / 21, 1 / 21, 1 / 21])


def test_w_shaped_drops_the_opportunity_role_when_there_is_no_opportunity() -> None:
    weights = credit(Model.W_SHAPED, FIVE, GOAL, Milestones(created_at=on_day(1)))
    assert weights == pytest.approx([3 / 7, 3 / 7, 1 / 21, 1 / 21, 1 / 21])


def test_w_shaped_opportunity_after_the_goal_is_a_vacant_role() -> None:
    # goal on day 2 (say an MQL): eligible days 0, 1, 2; anchors 0, 1; 0.1 to the third
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(3))
    weights = credit(Model.W_SHAPED, FIVE, on_day(2), milestones)
    assert weights == pytest.approx([3 / 7, 3 / 7, 1 / 7])


def test_w_shaped_has_no_chronological_middle_fallback() -> None:
    # only the first touch holds a role: 0.3 and 4 x 0.025, scaled by 1 / 0.4
    weights = credit(Model.W_SHAPED, FIVE, GOAL, CREATED_ON_FIRST)
    assert weights == pytest.approx([0.75, 0.0625, 0.0625, 0.0625, 0.0625])


def test_w_shaped_with_three_touches_holding_the_three_roles_gives_a_third_each() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(2))
    weights = credit(Model.W_SHAPED, days(0, 1, 2), GOAL, milestones)
    assert weights == pytest.approx([1 / 3] * 3)


# Full path


def test_full_path_gives_22_5_to_each_of_four_anchors_and_10_to_the_rest() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(3.5))
    weights = credit(Model.FULL_PATH, FIVE, GOAL, milestones)
    assert weights == pytest.approx([0.225, 0.225, 0.1, 0.225, 0.225])


def test_full_path_spreads_the_10_equally_over_the_other_touches() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(4))
    weights = credit(Model.FULL_PATH, days(0, 1, 2, 3, 4, 5), GOAL, milestones)
    assert weights == pytest.approx([0.225, 0.225, 0.05, 0.05, 0.225, 0.225])


def test_full_path_merges_a_creation_touch_that_is_the_first_touch_and_rescales() -> None:
    milestones = Milestones(created_at=on_day(0), opportunity_at=on_day(3))
    weights = credit(Model.FULL_PATH, FIVE, GOAL, milestones)
    assert weights == pytest.approx([9 / 31, 2 / 31, 2 / 31, 9 / 31, 9 / 31])


def test_full_path_drops_the_opportunity_anchor_when_there_is_no_opportunity() -> None:
    weights = credit(Model.FULL_PATH, FIVE, GOAL, Milestones(created_at=on_day(1)))
    assert weights == pytest.approx([9 / 31, 9 / 31, 2 / 31, 2 / 31, 9 / 31])


def test_full_path_with_four_distinct_anchors_and_no_other_touch_gives_25_each() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(2))
    weights = credit(Model.FULL_PATH, days(0, 1, 2, 3), GOAL, milestones)
    assert weights == pytest.approx([0.25] * 4)


def test_full_path_with_three_touches_gives_a_third_to_each() -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(2))
    weights = credit(Model.FULL_PATH, days(0, 1, 2), GOAL, milestones)
    assert weights == pytest.approx([1 / 3] * 3)


# Time decay


def test_time_decay_with_touches_14_7_and_0_days_old_gives_14_29_28_57_57_14() -> None:
    weights = credit(Model.TIME_DECAY, days(0, 7, 14), on_day(14), CREATED_ON_FIRST)
    assert percent(weights) == [14.29, 28.57, 57.14]


def test_time_decay_with_a_14_day_half_life_halves_a_touch_14_days_older() -> None:
    weights = credit(
        Model.TIME_DECAY, days(0, 14), on_day(14), CREATED_ON_FIRST, half_life=timedelta(days=14)
    )
    assert weights == pytest.approx([1 / 3, 2 / 3])


def test_time_decay_does_not_change_when_the_goal_is_later() -> None:
    weights = credit(Model.TIME_DECAY, days(0, 7, 14), on_day(30), CREATED_ON_FIRST)
    assert weights == pytest.approx([1 / 7, 2 / 7, 4 / 7])


def test_time_decay_splits_touches_at_the_same_instant_equally() -> None:
    weights = credit(Model.TIME_DECAY, days(3, 3), on_day(5), CREATED_ON_FIRST)
    assert weights == [0.5, 0.5]


def test_time_decay_still_sums_to_one_for_touches_decades_old() -> None:
    weights = credit(Model.TIME_DECAY, days(0, 7), on_day(365 * 40), CREATED_ON_FIRST)
    assert weights == pytest.approx([1 / 3, 2 / 3])


@pytest.mark.parametrize("half_life", [timedelta(0), timedelta(days=-1)])
def test_a_half_life_that_is_not_positive_is_rejected(half_life: timedelta) -> None:
    with pytest.raises(ValueError, match="half_life"):
        credit(Model.TIME_DECAY, FIVE, GOAL, CREATED_ON_FIRST, half_life=half_life)


# Edge cases shared by every model


@pytest.mark.parametrize("model", list(Model))
def test_a_single_touch_gets_all_the_credit_in_every_model(model: Model) -> None:
    assert credit(model, days(2), GOAL, CREATED_ON_THIRD) == [1.0]


@pytest.mark.parametrize("model", ANCHOR_MODELS)
def test_two_touches_split_50_50_when_the_second_holds_a_role(model: Model) -> None:
    milestones = Milestones(created_at=on_day(1), opportunity_at=on_day(1))
    assert credit(model, days(0, 1), GOAL, milestones) == [0.5, 0.5]


@pytest.mark.parametrize(
    ("model", "expected"),
    [(Model.U_SHAPED, [2 / 3, 1 / 3]), (Model.W_SHAPED, [0.75, 0.25]),
     (Model.FULL_PATH, [0.5, 0.5])],
)  # fmt: skip
def test_two_touches_when_the_first_holds_every_role_but_closing(
    model: Model, expected: list[float]
) -> None:
    # U: 0.4 vs 0.2; W: 0.3 vs 0.1; full path: the second is the closing touch
    milestones = Milestones(created_at=on_day(0), opportunity_at=on_day(0))
    assert credit(model, days(0, 1), GOAL, milestones) == pytest.approx(expected)


@pytest.mark.parametrize("model", list(Model))
def test_no_touches_give_no_weights(model: Model) -> None:
    assert credit(model, [], GOAL, CREATED_ON_FIRST) == []


@pytest.mark.parametrize("model", list(Model))
def test_touches_only_after_the_goal_give_no_weights(model: Model) -> None:
    assert credit(model, days(11, 12), GOAL, CREATED_ON_FIRST) == []


def test_touches_after_the_goal_are_ignored() -> None:
    weights = credit(Model.LAST_TOUCH, days(0, 1, 2, 3, 4), on_day(2), CREATED_ON_FIRST)
    assert weights == [0, 0, 1]


def test_a_touch_exactly_at_the_goal_counts() -> None:
    assert credit(Model.LAST_TOUCH, days(0, 2), on_day(2), CREATED_ON_FIRST) == [0, 1]


def test_weights_follow_chronological_order_whatever_the_given_order() -> None:
    weights = credit(Model.FIRST_TOUCH, days(3, 1, 2), GOAL, CREATED_ON_FIRST)
    assert weights == [1, 0, 0]


def test_of_two_touches_at_the_same_instant_the_later_listed_is_the_conversion() -> None:
    weights = credit(Model.LAST_TOUCH, days(0, 2, 2), GOAL, CREATED_ON_FIRST)
    assert weights == [0, 0, 1]


def test_of_two_touches_at_the_same_instant_the_later_listed_is_the_creation_touch() -> None:
    touches = days(0, 1, 2, 2, 3, 4)
    milestones = Milestones(created_at=on_day(2), opportunity_at=on_day(3.5))
    weights = credit(Model.W_SHAPED, touches, GOAL, milestones)
    assert weights == pytest.approx([0.3, 0.1 / 3, 0.1 / 3, 0.3, 0.3, 0.1 / 3])


# eligible


def test_eligible_sorts_touches_at_or_before_the_goal_by_time() -> None:
    late, early, after = touch_on(2, "late"), touch_on(1, "early"), touch_on(9, "after")
    assert eligible([late, after, early], on_day(2)) == [early, late]


def test_eligible_keeps_the_given_order_of_touches_at_the_same_instant() -> None:
    second, first = touch_on(1, "second"), touch_on(1, "first")
    assert eligible([second, first], GOAL) == [second, first]


# Conversion assists


def test_assists_are_the_content_items_seen_before_the_converting_touch() -> None:
    touches = [touch_on(0, "ebook"), touch_on(1, "webinar"), touch_on(2, "pricing")]
    assert assists(touches, GOAL) == {"ebook", "webinar"}


def test_the_converting_content_is_not_its_own_assist_even_when_seen_earlier() -> None:
    touches = [touch_on(0, "pricing"), touch_on(1, "ebook"), touch_on(2, "pricing")]
    assert assists(touches, GOAL) == {"ebook"}


def test_touches_without_content_give_no_assist() -> None:
    touches = [touch_on(0, None), touch_on(1, "ebook"), touch_on(2, "pricing")]
    assert assists(touches, GOAL) == {"ebook"}


def test_touches_after_the_goal_give_no_assist() -> None:
    touches = [touch_on(0, "ebook"), touch_on(1, "pricing"), touch_on(12, "webinar")]
    assert assists(touches, GOAL) == {"ebook"}


def test_a_single_touch_has_no_assists() -> None:
    assert assists([touch_on(0, "ebook")], GOAL) == set()


def test_no_touches_have_no_assists() -> None:
    assert assists([], GOAL) == set()


# Properties

minutes = st.integers(min_value=0, max_value=60 * 24 * 90)
instants = st.builds(lambda m: START + timedelta(minutes=m), minutes) | st.sampled_from(
    [on_day(0), on_day(1), on_day(2)]  # frequent ties with touches and milestones
)
touch_lists = st.lists(
    st.builds(
        Touch,
        occurred_at=instants,
        source=st.none() | st.sampled_from(["organic", "paid", "email"]),
        campaign=st.none() | st.just("spring"),
        content=st.none() | st.sampled_from(["ebook", "webinar", "pricing"]),
    ),
    max_size=12,
)
milestone_sets = st.builds(
    Milestones,
    created_at=instants,
    mql_at=st.none() | instants,
    opportunity_at=st.none() | instants,
    customer_at=st.none() | instants,
)


@settings(max_examples=200, deadline=None)
@given(
    model=st.sampled_from(Model),
    touches=touch_lists,
    goal_at=instants,
    milestones=milestone_sets,
    half_life_hours=st.integers(min_value=1, max_value=24 * 60),
)
def test_every_model_shares_exactly_one_over_the_eligible_touches(
    model: Model,
    touches: list[Touch],
    goal_at: datetime,
    milestones: Milestones,
    half_life_hours: int,
) -> None:
    half_life = timedelta(hours=half_life_hours)
    weights = credit(model, touches, goal_at, milestones, half_life)
    assert len(weights) == len(eligible(touches, goal_at))
    assert all(w >= 0 for w in weights)
    if weights:
        assert sum(weights) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(touches=touch_lists, goal_at=instants)
def test_assists_never_include_the_converting_content(
    touches: list[Touch], goal_at: datetime
) -> None:
    path = eligible(touches, goal_at)
    found = assists(touches, goal_at)
    assert found <= {t.content for t in path if t.content is not None}
    if path:
        assert path[-1].content not in found
