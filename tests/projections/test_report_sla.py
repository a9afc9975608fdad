"""The SLA report on a hand-built history (numbers by hand; business hours 9-17 UTC, Mon-Fri).

February 2026 starts on a Sunday: the 2nd is a Monday. First attempt is due 4 business hours
after assignment, a new MQL is followed up within 24 hours, the cadence wants 5 attempts in
14 days unless the lead responds, a passed lead is accepted within 3 days.

    lead owner  assigned      first attempt        other                         first_attempt
    L1   ana    Mon 2 10:00   Mon 2 11:00 (1 bh)   responds; passed to sam,      met
                                                   accepted next day
    L2   ana    Mon 2 16:00   Tue 3 10:00 (2 bh)   4 more attempts by Feb 9      met
    L3   bob    Tue 3 09:00   Tue 3 15:00 (6 bh)   breach fired first; responds; breached
                                                   passed to sam, escalated
    L4   bob    Wed 4 09:00   Wed 4 12:00 (3 bh)   breach fired, THEN the attempt met (corrected)
                                                   recorded (it happened in time)
    L5   bob    Thu 5 09:00   -                    due 13:00 passed, no timer    breached
    L6   ana    Mon 9 11:00   Mon 9 12:00 (1 bh)   MQL at 10:00 (no owner yet)   met
    L7   carol  Mon Mar 2 08:30 -                  due 13:00, now is 09:00       pending
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lifecycle.domain.values import Policy

FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


@pytest.fixture
def history(story):
    l1 = story.lead(2).then("assigned", 2, 10, owner="ana").then("attempted", 2, 11)
    l1.then("responded", 2, 12).then("qualified", 2, 13).then("passed", 2, 14, to_owner="sam")
    l1.then("accepted", 3, 9)
    l2 = story.lead(2).then("assigned", 2, 16, owner="ana").then("attempted", 3, 10)
    for day in (4, 5, 6, 9):
        l2.then("attempted", day, 10)
    l3 = story.lead(3).then("assigned", 3, 9, owner="bob").fire(Policy.FIRST_ATTEMPT)
    l3.then("attempted", 3, 15).then("responded", 3, 16).then("qualified", 3, 17)
    l3.then("passed", 3, 18, to_owner="sam").fire(Policy.PASSED_FOLLOW_UP)
    l4 = story.lead(4).then("assigned", 4, 9, owner="bob").fire(Policy.FIRST_ATTEMPT)
    l4.then("attempted", 4, 12).then("responded", 4, 12.5)
    story.lead(5).then("assigned", 5, 9, owner="bob")
    l6 = story.lead(9).then("touched", 9, 10, kind="demo_request")
    l6.then("assigned", 9, 11, owner="ana").then("attempted", 9, 12).then("responded", 9, 13)
    story.lead(29, 8).then("assigned", 29, 8.5, owner="carol")  # 29 February = 1 March


def policy(report, name):
    return next(p for p in report["policies"] if p["policy"] == name)


def test_first_attempt_compliance_counts_late_recorded_attempts_as_met(history, report):
    first = policy(report("sla", **FEB), "first_attempt")
    assert (first["due"], first["met"], first["breached"]) == (6, 4, 2)
    assert first["compliance"] == round(4 / 6, 4)
    assert first["corrected"] == 1  # L4
    assert first["breaches_recorded"] == 2  # L3 and L4
    assert first["pending"] == 0


def test_a_deadline_not_yet_due_is_pending_and_not_counted(history, report):
    first = policy(report("sla"), "first_attempt")
    assert (first["due"], first["pending"]) == (6, 1)  # L7, due at 13:00 today


def test_the_mql_follow_up_cadence_and_passed_lead_policies(history, report):
    sla = report("sla", **FEB)
    mql = policy(sla, "mql_follow_up")
    assert (mql["due"], mql["met"], mql["breached"]) == (1, 1, 0)
    cadence = policy(sla, "cadence")  # L1, L3, L4, L6 responded; L2 made 5 attempts in time
    assert (cadence["due"], cadence["met"], cadence["breached"]) == (5, 5, 0)
    passed = policy(sla, "passed_follow_up")  # L1 accepted, L3 escalated
    assert (passed["due"], passed["met"], passed["breached"]) == (2, 1, 1)
    assert passed["compliance"] == 0.5


def test_compliance_is_reported_per_owner_of_the_lead_when_the_clock_started(history, report):
    rows = {
        (row["owner"], row["policy"]): (row["due"], row["met"], row["breached"], row["corrected"])
        for row in report("sla", **FEB)["by_owner"]
    }
    assert rows == {
        ("ana", "first_attempt"): (3, 3, 0, 0),
        ("ana", "cadence"): (3, 3, 0, 0),
        ("bob", "first_attempt"): (3, 1, 2, 1),
        ("bob", "cadence"): (2, 2, 0, 0),
        ("sam", "passed_follow_up"): (2, 1, 1, 0),
        (None, "mql_follow_up"): (1, 1, 0, 0),  # L6 became an MQL before it had an owner
    }


def test_time_to_first_attempt_is_measured_in_business_hours(history, report):
    sla = report("sla", **FEB)
    # 1, 2, 6, 3 and 1 business hours: median 2, p90 = 3 + 0.6 * (6 - 3)
    assert sla["time_to_first_attempt"] == {
        "leads": 5, "median_business_hours": 2.0, "p90_business_hours": 4.8,
    }  # fmt: skip
    by_owner = {row["owner"]: row for row in sla["first_attempt_by_owner"]}
    assert by_owner["ana"]["median_business_hours"] == 1.0  # 1, 2, 1
    assert by_owner["ana"]["p90_business_hours"] == 1.8
    assert by_owner["bob"]["median_business_hours"] == 4.5  # 6, 3
    assert by_owner["bob"]["p90_business_hours"] == 5.7


def test_a_reassigned_lead_gets_a_new_clock_and_the_old_one_is_not_a_breach(story, report):
    story.lead(2).then("assigned", 2, 9, owner="ana").then("assigned", 2, 10, owner="bob")
    first = policy(report("sla", **FEB), "first_attempt")
    assert (first["due"], first["breached"]) == (1, 1)  # only bob's clock, due 14:00, passed
    assert report("sla", **FEB)["by_owner"][0]["owner"] == "bob"
