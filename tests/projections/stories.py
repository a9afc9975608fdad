"""Stories for report tests: a lead's history written at chosen business times.

`Story(ledger).lead(2, source="web").then("assigned", 2, 10, owner="ana")` records a `created`
activity on 2 February 2026 (09:00 UTC unless told), then each activity at its own time. The
ledger's clock (the `clock` fixture of this directory) stands at 2 March 2026, after them all.
`Reports` catches the read models up and builds a report judged at the clock's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from helpers import DEFAULT_BODIES, ManualClock, created, fire

from lifecycle.app.activities import parse_activity
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.values import Policy
from lifecycle.projections.reports import build_report
from lifecycle.projections.runner import ProjectionRunner

FEBRUARY = datetime(2026, 2, 1, tzinfo=UTC)  # a Sunday


def on(day: float, hour: float = 9.0) -> datetime:
    """`day` February 2026 at `hour` UTC (day 0 is 31 January)."""
    return FEBRUARY + timedelta(days=day - 1, hours=hour)


@dataclass
class Lead:
    ledger: LeadLedger
    id: str

    def then(self, activity: str, day: float, hour: float = 9.0, /, **fields: Any) -> Lead:
        body = {"type": activity, **DEFAULT_BODIES.get(activity, {}), **fields}
        body["occurred_at"] = on(day, hour).isoformat()
        self.ledger.record(Submission(self.id, body, "test"))
        return self

    def attempts(self, **channels: list[datetime]) -> Lead:
        """Contact attempts at the given moments per channel, in time order, in one write."""
        steps = sorted((moment, channel) for channel, moments in channels.items()
                       for moment in moments)  # fmt: skip
        bodies = [{"type": "attempted", "channel": channel, "occurred_at": moment.isoformat()}
                  for moment, channel in steps]  # fmt: skip
        self.ledger.in_batch(
            lambda batch: [batch.record(self.id, parse_activity(b), "test") for b in bodies]
        )
        return self

    def fire(self, policy: Policy) -> Lead:
        """The scheduler fires the lead's pending `policy` deadline (it must be due)."""
        lead = self.ledger.find(self.id)
        due = lead.deadlines[policy]
        assert fire(self.ledger, lead.id, policy, due, self.ledger.clock())
        return self


@dataclass
class Story:
    ledger: LeadLedger

    def lead(self, day: float, hour: float = 9.0, /, **contact: Any) -> Lead:
        body = created(**contact)
        body["occurred_at"] = on(day, hour).isoformat()
        return Lead(self.ledger, str(self.ledger.record(Submission(None, body, "test")).lead.id))


@dataclass
class Reports:
    ledger: LeadLedger
    runner: ProjectionRunner
    clock: ManualClock

    def __call__(self, name: str, **options: Any) -> dict[str, Any]:
        """The report after catching up, judged at the clock's time unless `now` is given."""
        self.runner.catch_up()
        return build_report(
            name, self.runner.engine, self.ledger.rules, self.clock.now(), **options
        )
