"""Attribution through the read models: the issue's worked cases and every edge case.

Each lead's `created` inquiry is a touch at its creation (source `s0` below unless told), its
lead-creation touch; `touched` activities add the others, possibly before it. A lead converts
(goal `customer`) when it is won; the sales steps before it (assigned ... opportunity created)
happen on the day given, 10:00 to 16:00.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from stories import on


def convert(lead, day, won_day=None, won_hour=9.0, amount="1000"):
    """Sales steps on `day` (10:00-16:00), then won on `won_day` (default the next day)."""
    lead.then("assigned", day, 10, owner="ana").then("attempted", day, 11)
    lead.then("responded", day, 12).then("qualified", day, 13)
    lead.then("passed", day, 14, to_owner="sam").then("accepted", day, 15)
    lead.then("opportunity_created", day, 16, amount=amount)
    lead.then("won", won_day if won_day is not None else day + 1, won_hour, amount=amount)
    return lead


def touch(lead, day, hour=9.0, source=None, content=None, campaign=None, kind="page_view"):
    lead.then("touched", day, hour, kind=kind, source=source, content=content, campaign=campaign)
    return lead


def credits(report, key="source"):
    return {row[key]: round(100 * row["credit"], 2) for row in report[f"by_{key}"]}


def five_touch_lead(story):
    """Touches s0 (created) .. s4 on days 1, 2, 3, 4, 5; won on day 6."""
    lead = story.lead(1, source="s0")
    for day in (2, 3, 4, 5):
        touch(lead, day, source=f"s{day - 1}")
    return convert(lead, 5, won_day=6)


def test_time_decay_with_touches_14_7_and_0_days_before_the_goal(story, report):
    lead = story.lead(1, source="ads", campaign="winter")
    touch(lead, 8, source="email", content="ebook")
    touch(lead, 15, source="web", content="pricing")
    convert(lead, 14, won_day=15)  # won on the 15th at 09:00, with the last touch
    result = report("attribution", model="time_decay", goal="customer")
    assert credits(result) == {"web": 57.14, "email": 28.57, "ads": 14.29}
    assert {row["source"]: row["revenue"] for row in result["by_source"]} == {
        "web": 571.43, "email": 285.71, "ads": 142.86,
    }  # fmt: skip
    assert result["revenue"] == 1000
    assert result["conversions"] == 1


def issue_lead(story):
    """The issue's example: organic (day 1, before the inquiry) -> webinar (the `created`
    inquiry, day 2) -> content (day 3) -> paid (day 4, 09:00, the last touch before the
    opportunity is created at 16:00) -> email (day 5); won 1000 on day 6."""
    lead = story.lead(2, source="webinar")
    touch(lead, 1, source="organic")  # recorded after the inquiry, occurred before it
    touch(lead, 3, source="content")
    touch(lead, 4, source="paid")
    convert(lead, 4, won_day=6)
    touch(lead, 5, source="email")
    return lead


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("w_shaped", {"organic": 300, "webinar": 300, "content": 50, "paid": 300, "email": 50}),
        ("u_shaped", {"organic": 400, "webinar": 400, "content": 66.67, "paid": 66.67,
                      "email": 66.67}),
        ("full_path", {"organic": 225, "webinar": 225, "content": 100, "paid": 225,
                       "email": 225}),
        ("linear", {"organic": 200, "webinar": 200, "content": 200, "paid": 200, "email": 200}),
    ],
)  # fmt: skip
def test_the_issue_worked_example_by_the_hubspot_definitions(story, report, model, expected):
    issue_lead(story)
    result = report("attribution", model=model, goal="customer")
    assert {row["source"]: row["revenue"] for row in result["by_source"]} == expected
    assert credits(result) == {source: round(value / 10, 2) for source, value in expected.items()}
    assert result["revenue"] == 1000


def test_w_shaped_merges_the_first_and_creation_roles_of_the_created_inquiry(story, report):
    # s0 is first + lead creation, s4 (day 5, 09:00) is the opportunity-creation touch:
    # 0.3, 0.3 and 3 x 0.1/3, scaled by 1/0.7
    five_touch_lead(story)
    result = report("attribution", model="w_shaped")
    assert credits(result) == {"s0": 42.86, "s1": 4.76, "s2": 4.76, "s3": 4.76, "s4": 42.86}


def test_u_shaped_merges_the_first_and_creation_roles_of_the_created_inquiry(story, report):
    # s0 is first + lead creation: 0.4 and 4 x 0.05, scaled by 1/0.6
    five_touch_lead(story)
    result = report("attribution", model="u_shaped")
    assert credits(result) == {"s0": 66.67, "s1": 8.33, "s2": 8.33, "s3": 8.33, "s4": 8.33}


def test_w_shaped_for_the_mql_goal_has_no_opportunity_role(story, report):
    # MQL on day 3 (demo request): eligible s0 (first + creation), s1, s2; no opportunity yet
    # at the goal, so 0.3 and 2 x 0.05, scaled by 1/0.4
    lead = story.lead(1, source="s0")
    touch(lead, 2, source="s1")
    touch(lead, 3, source="s2", kind="demo_request")
    touch(lead, 4, source="s3")
    convert(lead, 5)
    result = report("attribution", model="w_shaped", goal="mql")
    assert credits(result) == {"s0": 75.0, "s1": 12.5, "s2": 12.5}


@pytest.mark.parametrize(
    ("model", "expected"),
    [("first_touch", {"s0": 100.0}), ("last_touch", {"s4": 100.0}),
     ("linear", {f"s{i}": 20.0 for i in range(5)})],
)  # fmt: skip
def test_first_last_and_linear(story, report, model, expected):
    five_touch_lead(story)
    result = report("attribution", model=model)
    assert {k: v for k, v in credits(result).items() if v} == expected


def test_full_path_with_lead_creation_on_the_first_touch_merges_the_two_anchors(story, report):
    # Opportunity created on day 4 at 16:00: its touch is s3 (day 4, 09:00).
    lead = story.lead(1, source="s0")
    for day in (2, 3, 4):
        touch(lead, day, source=f"s{day - 1}")
    touch(lead, 5, 9, source="s4")
    convert(lead, 4, won_day=6)
    result = report("attribution", model="full_path")
    # anchors s0 (first + creation), s3 (opportunity), s4 (conversion): 9/31 each, 2/31 others
    assert credits(result) == {"s0": 29.03, "s3": 29.03, "s4": 29.03, "s1": 6.45, "s2": 6.45}


@pytest.mark.parametrize("model", ["u_shaped", "w_shaped", "full_path", "time_decay", "linear"])
def test_one_touch_gets_all_the_credit_in_every_model(story, report, model):
    convert(story.lead(1, source="only"), 1)
    assert credits(report("attribution", model=model)) == {"only": 100.0}


@pytest.mark.parametrize(
    ("model", "expected"),
    [("u_shaped", {"a": 66.67, "b": 33.33}), ("w_shaped", {"a": 50.0, "b": 50.0}),
     ("full_path", {"a": 50.0, "b": 50.0})],
)  # fmt: skip
def test_two_touches_in_the_position_models(story, report, model, expected):
    # a: first + lead creation; b: the opportunity-creation and closing touch, so U-shaped
    # gives it only the rest (0.4 vs 0.2) and W-shaped and full path anchor both
    convert(touch(story.lead(1, source="a"), 2, source="b"), 3)
    assert credits(report("attribution", model=model)) == expected


def test_of_two_touches_at_the_same_instant_the_one_recorded_later_is_the_last(story, report):
    lead = story.lead(1, source="s0")
    touch(lead, 3, 9, source="recorded-first")
    touch(lead, 3, 9, source="recorded-second")
    convert(lead, 4)
    result = report("attribution", model="last_touch")
    assert {k: v for k, v in credits(result).items() if v} == {"recorded-second": 100.0}


def test_touches_after_the_goal_are_ignored_and_late_recorded_ones_count(story, report):
    lead = convert(story.lead(1, source="s0"), 2, won_day=3)
    touch(lead, 4, source="after-the-sale")
    touch(lead, 2, 9, source="recorded-late")  # occurred before the sale, recorded after it
    result = report("attribution", model="linear")
    assert credits(result) == {"s0": 50.0, "recorded-late": 50.0}


def test_the_goal_decides_which_touches_count(story, report):
    lead = story.lead(1, source="s0")
    touch(lead, 2, source="s1", kind="demo_request")  # 5 + 15 points: an MQL on day 2
    touch(lead, 5, source="s2")
    convert(lead, 6)
    assert credits(report("attribution", model="last_touch", goal="created")) == {"s0": 100.0}
    mql = credits(report("attribution", model="last_touch", goal="mql"))
    assert {k: v for k, v in mql.items() if v} == {"s1": 100.0}
    opportunity = report("attribution", model="last_touch", goal="opportunity")
    assert {k: v for k, v in credits(opportunity).items() if v} == {"s2": 100.0}
    assert opportunity["revenue"] is None  # revenue is shared only for the customer goal
    assert opportunity["rows"][0]["revenue"] is None


def test_a_lead_that_skipped_the_mql_stage_reached_it_when_sales_accepted_it(story, report):
    lead = story.lead(1, source="s0")
    touch(lead, 5, 15.5, source="after-acceptance")  # sales accepted it at 15:00
    convert(lead, 5)
    result = report("attribution", model="last_touch", goal="mql")
    assert result["conversions"] == 1
    assert {k: v for k, v in credits(result).items() if v} == {"s0": 100.0}


def test_credit_is_reported_per_source_campaign_and_content(story, report):
    lead = story.lead(1, source="ads", campaign="winter")
    touch(lead, 2, source="email", campaign="nurture", content="ebook")
    convert(lead, 3)
    result = report("attribution", model="linear")
    assert [(r["source"], r["campaign"], r["content"], r["credit"], r["revenue"])
            for r in result["rows"]] == [
        ("ads", "winter", None, 0.5, 500), ("email", "nurture", "ebook", 0.5, 500),
    ]  # fmt: skip
    assert credits(result, "campaign") == {"nurture": 50.0, "winter": 50.0}
    assert credits(result, "content") == {None: 50.0, "ebook": 50.0}


def test_conversion_assists_count_content_seen_before_the_converting_touch(story, report):
    one = story.lead(1)
    touch(one, 2, content="ebook")
    touch(one, 3, content="pricing")
    convert(one, 4)
    two = story.lead(1)
    touch(two, 2, content="ebook")
    touch(two, 3, content="webinar")
    convert(two, 4)
    three = story.lead(1)
    touch(three, 2, content="pricing")
    touch(three, 3, content="ebook")
    convert(three, 4)
    assert report("attribution")["assists"] == [
        {"content": "ebook", "assists": 2}, {"content": "pricing", "assists": 1},
    ]  # fmt: skip


def test_the_period_selects_conversions_by_when_the_goal_was_reached(story, report):
    convert(story.lead(1, source="early"), 2, won_day=3)
    convert(story.lead(1, source="late"), 10, won_day=11)
    result = report("attribution", start=on(5), end=datetime(2026, 3, 1, tzinfo=UTC))
    assert credits(result) == {"late": 100.0}
    assert result["conversions"] == 1
