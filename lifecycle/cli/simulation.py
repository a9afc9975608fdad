"""A realistic, deterministic simulation of inbound and outbound leads, in simulated time.

Every lead gets a story drawn from a seeded random generator — where it came from, how
interested it is, whether it answers and after how many attempts, whether it qualifies, buys
or is lost — and each step is sent through the real application as an ordinary activity at
its simulated time. Owners work at different speeds, so some SLAs are met and some breached;
the scheduler's tick runs every simulated hour, so auto-nurture and breaches happen as they
would in production. Steps the lead no longer allows (a timer moved it on) are skipped, as a
real sales rep would skip them.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..app.ledger import LeadLedger
from ..app.recording import Submission
from ..domain.errors import LifecycleError

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday

SOURCES: list[tuple[str, list[str], float]] = [
    # (source, campaigns, share of inbound leads)
    ("organic_search", ["seo-devops-guide", "seo-ci-cd"], 0.26),
    ("paid_search", ["adwords-q1-brand", "adwords-q1-competitor"], 0.20),
    ("webinar", ["webinar-gitops-jan", "webinar-security-feb"], 0.16),
    ("content", ["ebook-devsecops", "whitepaper-ci-roi"], 0.18),
    ("referral", ["partner-referrals"], 0.08),
    ("event", ["kubecon-booth"], 0.12),
]
CONTENT = [
    "devops-guide",
    "ci-roi-calculator",
    "security-checklist",
    "case-study-acme",
    "pricing-page",
    "demo-video",
]
TITLES = [
    ("Software Engineer", 0.35),
    ("Engineering Manager", 0.25),
    ("Director of IT", 0.15),
    ("VP Engineering", 0.1),
    ("Student", 0.1),
    ("CTO", 0.05),
]
REGIONS = [("na", 0.45), ("emea", 0.35), ("apac", 0.12), ("latam", 0.08)]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Gringotts",
    "Monarch",
]
# How many hours each owner takes to get to a new lead: fast, steady and slow reps.
OWNER_DELAY_HOURS = {
    "emea-bdr-1": 1.0,
    "emea-bdr-2": 6.0,
    "na-bdr-1": 0.5,
    "na-bdr-2": 3.0,
    "na-bdr-3": 20.0,
    "ent-ae-1": 2.0,
    "ent-ae-2": 8.0,
    "senior-am-1": 4.0,
}
AES = ["ae-anna", "ae-bruno", "ae-chen"]


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    lead: int = field(compare=False)
    action: Callable[[], Any] = field(compare=False)


@dataclass
class SimulationResult:
    leads: int = 0
    activities: int = 0
    skipped: int = 0
    timers_fired: int = 0
    ended_at: datetime = START


class Simulation:
    """Drives `ledger` through `days` of simulated business from `start`.

    `tick(now) -> int` is called every simulated hour (the scheduler), and `set_now(t)` moves
    the simulated clock the ledger reads.
    """

    def __init__(
        self,
        ledger: LeadLedger,
        set_now: Callable[[datetime], None],
        tick: Callable[[datetime], int] | None = None,
        seed: int = 7,
        days: int = 30,
        leads_per_day: float = 10.0,
        start: datetime = START,
    ) -> None:
        self.ledger, self.set_now, self.tick = ledger, set_now, tick
        self.random = random.Random(seed)
        self.days, self.leads_per_day, self.start = days, leads_per_day, start
        self._queue: list[_Step] = []
        self._order = 0
        self._refs: dict[int, str] = {}
        self.result = SimulationResult()

    def run(self) -> SimulationResult:
        self._plan_arrivals()
        hour = self.start
        end = self.start + timedelta(days=self.days)
        while self._queue and self._queue[0].at < end:
            step = heapq.heappop(self._queue)
            while hour + timedelta(hours=1) <= step.at:
                hour += timedelta(hours=1)
                self._tick(hour)
            self.set_now(step.at)
            step.action()
        while hour < end:
            hour += timedelta(hours=1)
            self._tick(hour)
        self.result.ended_at = end
        return self.result

    # ------------------------------------------------------------------ arrivals
    def _plan_arrivals(self) -> None:
        for day in range(self.days):
            date = self.start + timedelta(days=day)
            weekday = date.weekday() < 5
            count = self._poisson(self.leads_per_day * (1.0 if weekday else 0.25))
            for _ in range(count):
                at = date + timedelta(minutes=self.random.randint(0, 14 * 60))
                self._new_lead(at, outbound=self.random.random() < 0.2)

    def _new_lead(self, at: datetime, outbound: bool) -> None:
        number = self.result.leads = self.result.leads + 1
        rnd = self.random
        source, campaigns = ("outbound", ["named-accounts-q1"]) if outbound else self._source()
        title = self._weighted(TITLES)
        body: dict[str, Any] = {
            "type": "created",
            "email": f"lead{number}@{rnd.choice(COMPANIES).lower()}.example",
            "first_name": f"First{number}",
            "last_name": f"Last{number}",
            "company": rnd.choice(COMPANIES),
            "title": title,
            "region": self._weighted(REGIONS),
            "employees": rnd.choice([12, 60, 250, 800, 2500, 12000]),
            "source": source,
            "campaign": rnd.choice(campaigns),
            "channel": "outbound" if outbound else "inbound",
            "external_id": f"crm-{number:05d}",
        }
        if rnd.random() < 0.04:
            body.pop("email")
            body["phone"] = f"+1212{2_000_000 + number:07d}"  # valid, one per lead
        self._at(at, number, lambda: self._create(number, body, at))

    def _create(self, number: int, body: dict[str, Any], at: datetime) -> None:
        recorded = self._send(None, body, at)
        if recorded is None:
            return
        self._refs[number] = str(recorded.lead.id)
        self._plan_story(number, at, interest=self.random.random())

    # --------------------------------------------------------------------- story
    def _plan_story(self, number: int, created: datetime, interest: float) -> None:
        rnd = self.random
        for _ in range(int(interest * 6)):
            touch_at = created + timedelta(hours=rnd.uniform(-240, 24 * 40))
            self._touch(number, touch_at, created)
        assign_at = created + timedelta(minutes=rnd.randint(2, 90))
        self._at(assign_at, number, lambda: self._assign(number, assign_at, interest))

    def _touch(self, number: int, at: datetime, created: datetime) -> None:
        """A touch at `at`; one that happened before the lead was known arrives just after."""
        rnd = self.random
        source, campaigns = self._source()
        body = {
            "type": "touched",
            "kind": rnd.choice(
                [
                    "page_view",
                    "content_download",
                    "email_click",
                    "webinar",
                    "pricing_view",
                    "demo_request",
                    "ad_click",
                ]
            ),
            "source": source,
            "campaign": rnd.choice(campaigns),
            "content": rnd.choice(CONTENT),
        }
        send_at = max(at, created + timedelta(minutes=1))
        self._at(send_at, number, lambda: self._send(number, body, at))

    def _assign(self, number: int, at: datetime, interest: float) -> None:
        recorded = self._send(number, {"type": "assigned"}, at)
        if recorded is None or recorded.lead.owner is None:
            return
        delay = OWNER_DELAY_HOURS.get(recorded.lead.owner, 4.0) * self.random.uniform(0.5, 2.0)
        answers_after = self.random.randint(1, 6) if interest > 0.35 else None
        self._attempt(number, at + timedelta(hours=delay), 1, answers_after, interest)

    def _attempt(
        self, number: int, at: datetime, attempt: int, answers_after: int | None, interest: float
    ) -> None:
        def act() -> None:
            channel = "call" if attempt % 2 == 0 else "email"
            if self._send(number, {"type": "attempted", "channel": channel}, at) is None:
                return
            if answers_after is not None and attempt >= answers_after:
                reply_at = at + timedelta(hours=self.random.uniform(1, 48))
                self._at(reply_at, number, lambda: self._respond(number, reply_at, interest))
            elif attempt < 6 and self.random.random() < 0.75:
                gap = timedelta(days=self.random.uniform(1, 6))
                self._attempt(number, at + gap, attempt + 1, answers_after, interest)

        self._at(at, number, act)

    def _respond(self, number: int, at: datetime, interest: float) -> None:
        if self._send(number, {"type": "responded", "channel": "email"}, at) is None:
            return
        decide_at = at + timedelta(days=self.random.uniform(0.5, 5))
        if interest > 0.55:
            self._at(decide_at, number, lambda: self._qualify(number, decide_at, interest))
        elif interest > 0.45:
            body = {"type": "nurtured", "reason": "not now"}
            self._at(decide_at, number, lambda: self._send(number, body, decide_at))
        else:
            body = {"type": "disqualified", "reason": "personal use"}
            self._at(decide_at, number, lambda: self._send(number, body, decide_at))

    def _qualify(self, number: int, at: datetime, interest: float) -> None:
        body = {"type": "qualified", "budget": True, "need": True, "authority": interest > 0.7}
        if self._send(number, body, at) is None:
            return
        passed = {"type": "passed", "to_owner": self.random.choice(AES)}
        pass_at = at + timedelta(minutes=30)
        self._at(pass_at, number, lambda: self._send(number, passed, pass_at))
        accept_at = at + timedelta(days=self.random.uniform(0.2, 5))
        self._at(accept_at, number, lambda: self._accept(number, accept_at, interest))

    def _accept(self, number: int, at: datetime, interest: float) -> None:
        if self._send(number, {"type": "accepted"}, at) is None:
            return
        amount = self.random.choice([6000, 12000, 24000, 48000])
        opened = at + timedelta(days=self.random.uniform(1, 7))
        body = {"type": "opportunity_created", "amount": amount, "opportunity_id": f"opp-{number}"}
        self._at(opened, number, lambda: self._opportunity(number, body, opened, interest))

    def _opportunity(
        self, number: int, body: dict[str, Any], at: datetime, interest: float
    ) -> None:
        if self._send(number, body, at) is None:
            return
        closed = at + timedelta(days=self.random.uniform(7, 30))
        outcome = (
            {"type": "won", "amount": body["amount"]}
            if self.random.random() < 0.3 + interest * 0.4
            else {"type": "lost", "reason": "chose a competitor"}
        )
        self._at(closed, number, lambda: self._send(number, outcome, closed))

    # ------------------------------------------------------------------ plumbing
    def _send(self, number: int | None, body: dict[str, Any], at: datetime) -> Any:
        ref = self._refs.get(number) if number is not None else None
        if number is not None and ref is None:
            return None
        try:
            recorded = self.ledger.record(
                Submission(ref, {**body, "occurred_at": at.isoformat()}, "demo")
            )
        except LifecycleError:
            self.result.skipped += 1
            return None
        self.result.activities += 1
        return recorded

    def _tick(self, now: datetime) -> None:
        if self.tick is not None:
            self.set_now(now)
            self.result.timers_fired += self.tick(now)

    def _at(self, at: datetime, lead: int, action: Callable[[], Any]) -> None:
        self._order += 1
        heapq.heappush(self._queue, _Step(at, self._order, lead, action))

    def _source(self) -> tuple[str, list[str]]:
        shares = [(name, campaigns) for name, campaigns, _ in SOURCES]
        weights = [share for _, _, share in SOURCES]
        return self.random.choices(shares, weights)[0]

    def _weighted(self, options: list[tuple[str, float]]) -> str:
        return self.random.choices([o for o, _ in options], [w for _, w in options])[0]

    def _poisson(self, mean: float) -> int:
        # Knuth's method: small means only, deterministic given the generator.
        limit, count, product = pow(2.718281828459045, -mean), 0, self.random.random()
        while product > limit:
            count += 1
            product *= self.random.random()
        return count
