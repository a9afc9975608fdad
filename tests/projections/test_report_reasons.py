"""The reasons report on a hand-built history; every number below is counted by hand.

    lead  created  source  owner  reasons recorded (February 2026 unless told)
    L1    Feb 2    web     ana    disqualified "no budget" Feb 3, reopened Feb 5, again Feb 6
    L2    Feb 3    web     bob    disqualified "wrong persona" Feb 4
    L3    Jan 20   ads     bob    disqualified "no budget" Jan 21
    L9    Feb 8    ads     carol  disqualified "student" Feb 8
    L4    Feb 10   ads     ana    nurtured "not now" Feb 10
    L10   Feb 14   web     ana    nurtured "not now" Feb 14
    L5    Feb 11   ads     carol  nurtured, no reason, Feb 11
    L8    Feb 1    events  bob    attempted Feb 1 11:00, auto-nurtured when due: Feb 22 11:00
    L6    Feb 12   (none)  (none) bad_data "bounced" Feb 12
    L7    Feb 13   web     sam    opportunity (passed ana → sam), lost "went with a competitor"
                                  Feb 15

Disqualified: "no budget" 3 times on 2 leads (L1 twice, L3), "student" 1, "wrong persona" 1;
5 in all on 4 leads. Nurtured: "not now" 2, "auto_nurture" 1 (the timer), no reason 1.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from stories import on

from lifecycle.domain.errors import ValidationFailed
from lifecycle.domain.values import Policy
from lifecycle.projections.catalog import read_models
from lifecycle.projections.runner import ProjectionRunner

FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


@pytest.fixture
def history(story):
    l1 = story.lead(2, source="web", campaign="spring", region="emea")
    l1.then("assigned", 2, 10, owner="ana").then("disqualified", 3, reason="no budget")
    l1.then("reopened", 5).then("disqualified", 6, reason="no budget")
    l2 = story.lead(3, source="web", campaign="spring").then("assigned", 3, 10, owner="bob")
    l2.then("disqualified", 4, reason="wrong persona")
    l3 = story.lead(-11, source="ads", campaign="winter", region="na")
    l3.then("assigned", -11, 10, owner="bob").then("disqualified", -10, reason="no budget")
    l9 = story.lead(8, source="ads").then("assigned", 8, 9.5, owner="carol")
    l9.then("disqualified", 8, 10, reason="student")
    l4 = story.lead(10, source="ads").then("assigned", 10, 9.5, owner="ana")
    l4.then("nurtured", 10, 10, reason="not now")
    l10 = story.lead(14, source="web").then("assigned", 14, 9.5, owner="ana")
    l10.then("nurtured", 14, 10, reason="not now")
    l5 = story.lead(11, source="ads").then("assigned", 11, 9.5, owner="carol")
    l5.then("nurtured", 11, 10, reason=None)
    l8 = story.lead(1, source="events").then("assigned", 1, 10, owner="bob")
    l8.then("attempted", 1, 11).fire(Policy.AUTO_NURTURE)
    story.lead(12).then("bad_data", 12, 10, channel="all", reason="bounced")
    l7 = story.lead(13, source="web").then("assigned", 13, 9.5, owner="ana")
    l7.then("attempted", 13, 10).then("responded", 13, 11).then("qualified", 13, 12)
    l7.then("passed", 13, 13, to_owner="sam").then("accepted", 13, 14)
    l7.then("opportunity_created", 13, 15, amount="5000")
    l7.then("lost", 15, reason="went with a competitor")


def cells(rows, *keys):
    return [tuple(row[key] for key in keys) for row in rows]


def test_every_reason_is_counted_by_type_then_count_then_reason(history, report):
    reasons = report("reasons")
    assert reasons["group_by"] is None
    assert (reasons["from"], reasons["to"]) == (None, None)
    assert reasons["rows"] == [
        {"type": "bad_data", "reason": "bounced", "count": 1, "leads": 1, "share": 1.0},
        {"type": "disqualified", "reason": "no budget", "count": 3, "leads": 2, "share": 0.6},
        {"type": "disqualified", "reason": "student", "count": 1, "leads": 1, "share": 0.2},
        {"type": "disqualified", "reason": "wrong persona", "count": 1, "leads": 1, "share": 0.2},
        {"type": "lost", "reason": "went with a competitor", "count": 1, "leads": 1, "share": 1.0},
        {"type": "nurtured", "reason": "not now", "count": 2, "leads": 2, "share": 0.5},
        {"type": "nurtured", "reason": "auto_nurture", "count": 1, "leads": 1, "share": 0.25},
        {"type": "nurtured", "reason": None, "count": 1, "leads": 1, "share": 0.25},
    ]
    assert reasons["totals"] == [
        {"type": "bad_data", "count": 1, "leads": 1},
        {"type": "disqualified", "count": 5, "leads": 4},
        {"type": "lost", "count": 1, "leads": 1},
        {"type": "nurtured", "count": 4, "leads": 4},
    ]
    assert reasons["warnings"] == []


def test_the_period_selects_reasons_by_when_they_were_recorded(history, report):
    february = report("reasons", **FEB)
    assert (february["from"], february["to"]) == ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")
    disqualified = [row for row in february["rows"] if row["type"] == "disqualified"]
    assert cells(disqualified, "reason", "count", "leads", "share") == [
        ("no budget", 2, 1, 0.5), ("student", 1, 1, 0.25), ("wrong persona", 1, 1, 0.25),
    ]  # fmt: skip
    assert february["totals"][1] == {"type": "disqualified", "count": 4, "leads": 3}


def test_from_is_inclusive_and_to_exclusive(history, report):
    # From L1's second disqualification (Feb 6, 09:00) to the auto-nurture (Feb 22, 11:00).
    window = report("reasons", start=on(6), end=on(22, 11))
    assert cells(window["rows"], "type", "reason", "count") == [
        ("bad_data", "bounced", 1),
        ("disqualified", "no budget", 1),
        ("disqualified", "student", 1),
        ("lost", "went with a competitor", 1),
        ("nurtured", "not now", 2),
        ("nurtured", None, 1),
    ]
    later = report("reasons", start=on(22, 11))
    assert cells(later["rows"], "type", "reason", "count") == [("nurtured", "auto_nurture", 1)]


def test_by_owner_the_owner_is_the_one_when_the_reason_was_recorded(history, report):
    rows = report("reasons", group_by="owner")["rows"]
    assert cells(rows, "group", "type", "reason", "count", "share") == [
        ("ana", "disqualified", "no budget", 2, 1.0),
        ("ana", "nurtured", "not now", 2, 1.0),
        ("bob", "disqualified", "no budget", 1, 0.5),
        ("bob", "disqualified", "wrong persona", 1, 0.5),
        ("bob", "nurtured", "auto_nurture", 1, 1.0),
        ("carol", "disqualified", "student", 1, 1.0),
        ("carol", "nurtured", None, 1, 1.0),
        ("sam", "lost", "went with a competitor", 1, 1.0),  # passed from ana to sam first
        (None, "bad_data", "bounced", 1, 1.0),
    ]
    assert list(rows[0]) == ["group", "type", "reason", "count", "leads", "share"]


def test_by_source_the_lead_s_source_groups_with_shares_per_group(history, report):
    rows = report("reasons", group_by="source")["rows"]
    assert cells(rows, "group", "type", "reason", "count", "share") == [
        ("ads", "disqualified", "no budget", 1, 0.5),
        ("ads", "disqualified", "student", 1, 0.5),
        ("ads", "nurtured", "not now", 1, 0.5),
        ("ads", "nurtured", None, 1, 0.5),
        ("events", "nurtured", "auto_nurture", 1, 1.0),
        ("web", "disqualified", "no budget", 2, 0.6667),
        ("web", "disqualified", "wrong persona", 1, 0.3333),
        ("web", "lost", "went with a competitor", 1, 1.0),
        ("web", "nurtured", "not now", 1, 1.0),
        (None, "bad_data", "bounced", 1, 1.0),
    ]


def test_by_month_the_month_the_reason_was_recorded(history, report):
    rows = report("reasons", group_by="month")["rows"]
    months = {}
    for row in rows:
        months[row["group"]] = months.get(row["group"], 0) + row["count"]
    assert months == {"2026-01": 1, "2026-02": 10}
    assert cells(rows, "group", "type", "reason", "count", "leads")[:2] == [
        ("2026-01", "disqualified", "no budget", 1, 1),
        ("2026-02", "bad_data", "bounced", 1, 1),
    ]


def test_by_campaign_and_by_region_with_a_period(history, report):
    rows = report("reasons", group_by="campaign", **FEB)["rows"]
    assert cells(rows, "group", "type", "reason", "count") == [
        ("spring", "disqualified", "no budget", 2),
        ("spring", "disqualified", "wrong persona", 1),
        (None, "bad_data", "bounced", 1),
        (None, "disqualified", "student", 1),
        (None, "lost", "went with a competitor", 1),
        (None, "nurtured", "not now", 2),
        (None, "nurtured", "auto_nurture", 1),
        (None, "nurtured", None, 1),
    ]
    regions = report("reasons", group_by="region")["rows"]
    assert cells(regions, "group", "count")[:2] == [("emea", 2), ("na", 1)]


def test_an_empty_store_has_no_rows_and_every_type_at_zero(report):
    reasons = report("reasons", group_by="owner")
    assert reasons["rows"] == []
    assert reasons["totals"] == [
        {"type": kind, "count": 0, "leads": 0}
        for kind in ("bad_data", "disqualified", "lost", "nurtured")
    ]


def test_the_report_takes_no_option_of_another_report(report):
    with pytest.raises(ValidationFailed) as refused:
        report("reasons", model="linear")
    assert refused.value.details["fields"] == {"model": "not accepted by this report"}
    with pytest.raises(ValidationFailed):
        report("reasons", group_by="colour")


def test_a_rebuild_fills_the_reasons_again(history, report, runner):
    before = report("reasons", group_by="owner")
    runner.rebuild("lead_facts")
    assert report("reasons", group_by="owner") == before


def test_a_store_of_an_older_release_without_the_table_rebuilds_its_facts(
    history, report, runner, ledger
):
    before = report("reasons")
    with runner.engine.begin() as conn:
        conn.execute(text("DROP TABLE reasons"))
    again = ProjectionRunner(
        ledger.recorder, ledger.mapper, runner.engine, read_models(), clock=ledger.clock
    )
    again.create_tables()
    assert again.position("lead_facts") == 0
    assert again.position("touches") > 0  # whole: left alone
    again.catch_up()
    assert report("reasons") == before
    assert before["totals"][1]["count"] == 5
