"""The status board on a hand-built history (counts by hand).

lead  created  owner  path                          status now
A     Feb 2    -      -                             raw
B     Feb 3    ana    assigned                      open
C     Feb 4    ana    assigned, attempted           attempt_1
D     Feb 5    bob    assigned, attempted, replied  progressing
E     Jan 25   bob    assigned, bad data            bad_data
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

FEB = {"start": datetime(2026, 2, 1, tzinfo=UTC), "end": datetime(2026, 3, 1, tzinfo=UTC)}


@pytest.fixture
def history(story):
    story.lead(2)
    story.lead(3).then("assigned", 3, owner="ana")
    story.lead(4).then("assigned", 4, owner="ana").then("attempted", 4, 10)
    story.lead(5).then("assigned", 5, owner="bob").then("attempted", 5, 10).then("responded", 5, 11)
    story.lead(-6).then("assigned", -6, owner="bob").then("bad_data", -6, 10)


def counts(rows):
    return {row["status"]: row["count"] for row in rows if row["count"]}


def test_the_board_counts_the_leads_created_in_the_period_by_current_status(history, report):
    board = report("status", **FEB)
    assert counts(board["rows"]) == {"raw": 1, "open": 1, "attempt_1": 1, "progressing": 1}
    assert [row["status"] for row in board["rows"]][:3] == ["raw", "open", "attempt_1"]
    assert len(board["rows"]) == 11  # every status, zeros included
    assert board["total"] == 4


def test_the_board_is_broken_down_by_owner(history, report):
    groups = report("status", **FEB)["groups"]
    assert [(g["group"], g["total"]) for g in groups] == [("ana", 2), ("bob", 1), (None, 1)]
    assert (groups[0]["open"], groups[0]["attempt_1"], groups[0]["raw"]) == (1, 1, 0)
    assert groups[1]["progressing"] == 1


def test_without_a_period_the_board_shows_every_lead(history, report):
    board = report("status")
    assert counts(board["rows"])["bad_data"] == 1
    assert board["total"] == 5
    assert [(g["group"], g["total"]) for g in board["groups"]] == [
        ("ana", 2), ("bob", 2), (None, 1),
    ]  # fmt: skip
    assert {row["stage"]: row["count"] for row in board["stages"]}["lead"] == 5


def test_the_board_can_group_by_another_column(story, report):
    story.lead(2, source="web")
    story.lead(3, source="web").then("assigned", 3, owner="ana")
    groups = report("status", group_by="source")["groups"]
    assert groups == [
        {"group": "web", "raw": 1, "open": 1, "attempt_1": 0, "attempt_2": 0, "attempt_3": 0,
         "attempt_4": 0, "progressing": 0, "qualified": 0, "unqualified": 0, "nurture": 0,
         "bad_data": 0, "total": 2},
    ]  # fmt: skip
