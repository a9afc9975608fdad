"""The activity report on a hand-built history (counts by hand).

The period is Monday 2 to Monday 16 February 2026: ISO weeks 2026-W06 and 2026-W07, and the
month 2026-02. Targets (seed 000): 30 emails a week, 15 dials a month.

    owner  lead  emails W06  emails W07  calls W06  calls W07  other
    ana    A     30          29          8          7          -
    bob    B     -           -           7          7          1 linkedin in W06
    cy     D     2           -           -          -          -
    cy     C     (assigned, never attempted)
    -      E     (never assigned)
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from stories import on

PERIOD = {"start": datetime(2026, 2, 2, tzinfo=UTC), "end": datetime(2026, 2, 16, tzinfo=UTC)}


def spread(count, days, start_hour=9.0):
    """`count` moments over `days` (each a February day), a few minutes apart."""
    return [on(days[i % len(days)], start_hour + i // len(days) * 0.1) for i in range(count)]


@pytest.fixture
def history(story):
    week6, week7 = [2, 3, 4, 5, 6], [9, 10, 11, 12, 13]
    ana = story.lead(1).then("assigned", 1, owner="ana")
    ana.attempts(email=spread(30, week6) + spread(29, week7),
                 call=spread(8, week6, 14) + spread(7, week7, 14))  # fmt: skip
    bob = story.lead(1).then("assigned", 1, owner="bob")
    bob.attempts(call=spread(7, week6) + spread(7, week7), linkedin=[on(3, 16)])
    story.lead(2).then("assigned", 2, owner="cy").attempts(email=[on(3), on(4)])
    story.lead(2).then("assigned", 2, owner="cy")
    story.lead(2)


def owner(report, name):
    return next(row for row in report["owners"] if row["owner"] == name)


def test_owners_are_checked_against_30_emails_a_week_and_15_dials_a_month(history, report):
    activity = report("activity", **PERIOD)
    assert activity["targets"] == {"emails_per_week": 30, "dials_per_month": 15}
    ana, bob, cy = (owner(activity, name) for name in ("ana", "bob", "cy"))
    assert (ana["emails"], ana["dials"], ana["attempts"]) == (59, 15, 74)
    assert (ana["weeks"], ana["email_weeks_met"], ana["email_weeks_missed"]) == (2, 1, 1)
    assert (ana["months"], ana["dial_months_met"], ana["dial_months_missed"]) == (1, 1, 0)
    assert ana["emails_by_week"] == {"2026-W06": 30, "2026-W07": 29}
    assert (bob["dials"], bob["dial_months_met"], bob["dial_months_missed"]) == (14, 0, 1)
    assert (bob["email_weeks_met"], bob["email_weeks_missed"]) == (0, 2)
    assert (cy["emails"], cy["email_weeks_missed"]) == (2, 2)


def test_attempts_per_owner_per_week_by_channel(history, report):
    weekly = report("activity", **PERIOD)["weekly"]
    rows = [(r["owner"], r["week"], r["email"], r["call"], r["linkedin"], r["total"])
            for r in weekly]  # fmt: skip
    assert rows == [
        ("ana", "2026-W06", 30, 8, 0, 38),
        ("ana", "2026-W07", 29, 7, 0, 36),
        ("bob", "2026-W06", 0, 7, 1, 8),
        ("bob", "2026-W07", 0, 7, 0, 7),
        ("cy", "2026-W06", 2, 0, 0, 2),
    ]


def test_depth_is_the_distribution_of_attempts_over_assigned_leads(history, report):
    activity = report("activity")
    depth = {row["attempts"]: row["leads"] for row in activity["depth"]}
    assert depth == {"0": 1, "1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6+": 2}
    assert activity["leads_worked"] == 4  # E was never assigned
    assert activity["mean_attempts"] == 22.75  # (74 + 15 + 2 + 0) / 4


def test_attempts_outside_the_period_are_not_counted(history, report):
    week7 = {"start": datetime(2026, 2, 9, tzinfo=UTC), "end": datetime(2026, 2, 16, tzinfo=UTC)}
    ana = owner(report("activity", **week7), "ana")
    assert (ana["emails"], ana["weeks"], ana["email_weeks_missed"]) == (29, 1, 1)
