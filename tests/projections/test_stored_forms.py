"""A store holding events in both stored forms (eventsourcing's marked form, as 0.1 wrote every
event, and the compact form of 0.2 on) folds the same leads, and rebuilds the same read models
and reports, as the same store in the compact form alone: on SQLite and PostgreSQL.

The events are written by this release, whose compact bytes are 0.2's byte for byte
(`tests/integration/test_codec_forms.py`); then every other stored row is rewritten in plain SQL
into the marked form that 0.1's mapper stored.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper
from helpers import every_row
from sqlalchemy import text

from lifecycle.app.ledger import LeadLedger
from lifecycle.domain.values import Policy
from lifecycle.projections.reports import REPORTS
from lifecycle.storage.db import read_model_engine
from lifecycle.storage.store import transcoder

# Every report, the plan with the options it needs.
OPTIONS: dict[str, dict[str, str]] = {
    "plan": {"revenue_goal": "100000", "deal_size": "1000", "conversion_rate": "0.5"}
}


def histories(story: Any) -> list[str]:
    """Leads through most of what a lead can do: won, lost, timed out, disqualified, opted out,
    nurtured and reopened, marked bad; with touches and a contact's fields."""
    won = story.lead(2, source="web", campaign="spring", region="emea", company="Zoë & Co")
    won.then("assigned", 2, 10, owner="ana").then("touched", 2, 11, kind="webinar", content="e")
    won.then("attempted", 2, 12).then("responded", 3).then("qualified", 3, 10)
    won.then("passed", 4).then("accepted", 4, 10).then("opportunity_created", 5)
    won.then("won", 9, 10, amount="7500.50")
    lost = story.lead(3, source="ads").then("assigned", 3, 10, owner="bob")
    lost.then("attempted", 3, 11).then("responded", 4).then("qualified", 4, 10)
    lost.then("passed", 5).then("accepted", 5, 10).then("opportunity_created", 6).then("lost", 8)
    late = story.lead(4, phone="+49 30 1234").then("assigned", 4, 10, owner="ana")
    late.fire(Policy.FIRST_ATTEMPT)
    dropped = story.lead(5).then("assigned", 5, 10, owner="bob").then("attempted", 5, 11)
    dropped.then("disqualified", 6)
    quiet = story.lead(6, region="na").then("opted_out", 6, 10, days=3).then("opted_in", 7)
    quiet.then("assigned", 7, 10, owner="bob").then("nurtured", 8).then("reopened", 9)
    quiet.then("touched", 9, 10, kind="page_view")
    bad = story.lead(7).then("assigned", 7, 10, owner="ana").then("bad_data", 7, 11)
    return [lead.id for lead in (won, lost, late, dropped, quiet, bad)]


def folded(ledger: LeadLedger, leads: list[str]) -> dict[str, Any]:
    """Each lead as read from the store (a new ledger, no cache), and its events' fields."""

    def fields(event: Any) -> dict[str, Any]:  # the marked form kept no key types
        return {**vars(event), "deadlines": {str(getattr(k, "value", k)): v
                                             for k, v in event.deadlines.items()}}  # fmt: skip

    return {
        lead: (vars(ledger.find(lead)), [fields(e) for e in ledger.lead_events(UUID(lead))])
        for lead in leads
    }


def every_report(report: Any) -> dict[str, Any]:
    return {name: report(name, **OPTIONS.get(name, {})) for name in REPORTS}


def rewrite_every_other_event_in_the_marked_form(ledger: LeadLedger, database_url: str) -> int:
    marked = Mapper[UUID](transcoder=transcoder())
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    engine = read_model_engine(database_url)
    update = text(f"UPDATE {table} SET state = :state "
                  "WHERE originator_id = :id AND originator_version = :seq")  # fmt: skip
    rewritten = 0
    try:
        with engine.begin() as conn:
            for stored in ledger.recorder.select_notifications(0, 10_000)[::2]:
                state = marked.to_stored_event(ledger.mapper.to_domain_event(stored)).state
                key = str(stored.originator_id)
                key = key if engine.dialect.name == "postgresql" else key.replace("-", "")
                values = {"state": state, "id": key, "seq": stored.originator_version}
                done = conn.execute(update, values)
                rewritten += done.rowcount
    finally:
        engine.dispose()
    return rewritten


def test_a_store_with_both_forms_folds_and_rebuilds_as_the_compact_form_alone(
    story, ledger, runner, report, make_ledger, database_url
):
    leads = histories(story)
    before = folded(make_ledger(database_url), leads)
    runner.catch_up()
    rows, reports = every_row(runner), every_report(report)
    assert sum(len(each) for each in rows.values()) > 0

    rewritten = rewrite_every_other_event_in_the_marked_form(ledger, database_url)

    stored = ledger.recorder.select_notifications(0, 10_000)
    assert rewritten == len(stored[::2]) > 20
    marked = [each for each in stored if b'"_type_"' in each.state]
    assert len(marked) == rewritten  # and the others are compact
    assert folded(make_ledger(database_url), leads) == before
    runner.rebuild()
    assert every_row(runner) == rows
    assert every_report(report) == reports
