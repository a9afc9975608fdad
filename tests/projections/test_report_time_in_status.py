"""The time-in-status report on a hand-built history (hours by hand; now is Mar 2, 09:00).

lead  raw               open                 attempt_1         progressing       now
L1    Feb 2 09-11 (2h)  Feb 2 11-Feb 3 11    Feb 3 11-15 (4h)  Feb 3 15-Feb 4 15 qualified
                        (24h)                                  (24h)             (Feb 4 15)
L2    Feb 2 10-14 (4h)  Feb 2 14-Feb 5 14 (72h)                                  attempt_1
L3    since Feb 10 09                                                            raw; MQL
                                                                                 at 12:00
L4    Jan 30 09-10      since Jan 30 10                                          open
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


@pytest.fixture
def history(story):
    l1 = story.lead(2, 9).then("assigned", 2, 11, owner="ana").then("attempted", 3, 11)
    l1.then("responded", 3, 15).then("qualified", 4, 15)
    story.lead(2, 10).then("assigned", 2, 14, owner="ana").then("attempted", 5, 14)
    story.lead(10, 9).then("touched", 10, 12, kind="demo_request")
    story.lead(-1, 9).then("assigned", -1, 10, owner="bob")
    return l1


def row(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_each_status_counts_entries_exits_current_leads_and_time_spent(history, report):
    statuses = report("time-in-status", **FEB)["statuses"]
    assert row(statuses, "status", "raw") == {
        "status": "raw", "entered": 3, "exited": 2, "current": 1,
        "median_hours": 3.0, "p90_hours": 3.8,
    }  # fmt: skip
    assert row(statuses, "status", "open") == {
        "status": "open", "entered": 2, "exited": 2, "current": 1,
        "median_hours": 48.0, "p90_hours": 67.2,
    }  # fmt: skip
    attempt = row(statuses, "status", "attempt_1")
    assert (attempt["entered"], attempt["exited"], attempt["current"]) == (2, 1, 1)
    assert (attempt["median_hours"], attempt["p90_hours"]) == (4.0, 4.0)
    qualified = row(statuses, "status", "qualified")
    assert (qualified["entered"], qualified["current"], qualified["median_hours"]) == (1, 1, None)
    assert [r["status"] for r in statuses][:2] == ["raw", "open"]


def test_each_stage_too(history, report):
    stages = report("time-in-status", **FEB)["stages"]
    lead = row(stages, "stage", "lead")
    assert (lead["entered"], lead["exited"], lead["current"], lead["median_hours"]) == (
        3, 1, 3, 3.0,
    )  # fmt: skip
    mql = row(stages, "stage", "mql")
    assert (mql["entered"], mql["exited"], mql["current"]) == (1, 0, 1)


def test_per_lead_dates_entered_and_exited_like_hubspot(history, report):
    leads = report("time-in-status", **FEB)["leads"]
    assert len(leads) == 3  # L4 was created in January
    l1 = row(leads, "lead_id", history.id)
    assert l1["statuses"]["raw"] == {
        "entered_at": "2026-02-02T09:00:00Z", "exited_at": "2026-02-02T11:00:00Z",
        "latest_hours": 2.0, "cumulative_hours": 2.0,
    }  # fmt: skip
    assert l1["statuses"]["qualified"] == {  # Feb 4 15:00 to Mar 2 09:00
        "entered_at": "2026-02-04T15:00:00Z", "exited_at": None,
        "latest_hours": 618.0, "cumulative_hours": 618.0,
    }  # fmt: skip
    assert list(l1["stages"]) == ["lead"]


def test_a_status_entered_twice_adds_up_and_keeps_the_first_entry_and_last_exit(story, report):
    lead = story.lead(16, 9).then("assigned", 16, 10, owner="ana").then("attempted", 16, 12)
    lead.then("nurtured", 16, 13).then("attempted", 17, 9).then("nurtured", 17, 10)
    (entry,) = report("time-in-status")["leads"]
    assert entry["statuses"]["attempt_1"] == {
        "entered_at": "2026-02-16T12:00:00Z", "exited_at": "2026-02-17T10:00:00Z",
        "latest_hours": 1.0, "cumulative_hours": 2.0,
    }  # fmt: skip
    # nurture: Feb 16 13:00 to Feb 17 09:00 (20 h), then Feb 17 10:00 to Mar 2 09:00 (311 h)
    assert entry["statuses"]["nurture"] == {
        "entered_at": "2026-02-16T13:00:00Z", "exited_at": None,
        "latest_hours": 311.0, "cumulative_hours": 331.0,
    }  # fmt: skip


def test_per_lead_dates_can_be_left_out(history, report):
    assert "leads" not in report("time-in-status", per_lead=False)
