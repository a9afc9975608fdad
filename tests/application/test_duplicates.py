"""An activity delivered twice is recorded once (docs/activities.md, Duplicates): by its `id`,
or, without one, by its content and explicit `occurred_at`; on both engines, through the
ledger, import (also resumed after a `kill -9`) and HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle.app.importer import run_import
from lifecycle.app.ledger import LeadLedger
from lifecycle.app.recording import Submission
from lifecycle.domain.errors import ValidationFailed

AT = "2026-01-05T10:00:00Z"


def jsonl(*lines: object) -> list[bytes]:
    return [json.dumps(line).encode() for line in lines]


def record(ledger: LeadLedger, ref: str | None, body: dict[str, Any]) -> Any:
    return ledger.record(Submission(ref, body, "test"))


def history(ledger: LeadLedger, ref: str) -> list[str]:
    lead = ledger.find(ref)
    return [event.TYPE for event in ledger.lead_events(lead.id)]


FILE = jsonl(
    {"type": "created", "email": "a@example.com", "title": "CTO", "occurred_at": AT},
    {"type": "assigned", "email": "a@example.com", "owner": "ana", "occurred_at": AT},
    {"type": "attempted", "email": "a@example.com", "channel": "call", "id": "call-1",
     "occurred_at": "2026-01-05T11:00:00Z"},
    {"type": "touched", "email": "a@example.com", "kind": "page_view", "content": "pricing",
     "occurred_at": "2026-01-05T11:30:00Z"},
    {"type": "responded", "email": "a@example.com", "occurred_at": "2026-01-05T12:00:00Z"},
    {"type": "touched", "email": "a@example.com", "kind": "email_click", "id": "click-1"},
)  # fmt: skip


def test_an_import_run_again_records_nothing_twice(ledger: LeadLedger) -> None:
    first = run_import(ledger, FILE)
    before = history(ledger, "a@example.com")

    again = run_import(ledger, FILE)

    assert (first.accepted, first.duplicates, first.rejected) == (6, 0, [])
    assert (again.accepted, again.duplicates, again.events, again.rejected) == (0, 6, 0, [])
    assert history(ledger, "a@example.com") == before  # no repeat-inquiry touch either
    lead = ledger.find("a@example.com")
    assert (lead.attempts, lead.status.value) == (1, "progressing")


def test_an_id_already_recorded_on_the_lead_answers_with_the_first_entries(
    ledger: LeadLedger,
) -> None:
    record(ledger, None, {"type": "created", "email": "b@example.com"})
    record(ledger, "b@example.com", {"type": "assigned", "owner": "ana"})
    first = record(ledger, "b@example.com", {"type": "attempted", "channel": "call", "id": "c-9"})
    record(ledger, "b@example.com", {"type": "attempted", "channel": "email"})

    # the same id: a duplicate, whatever else it says
    again = record(ledger, "b@example.com", {"type": "attempted", "channel": "sms", "id": "c-9"})

    assert again.duplicate and again.replayed and not first.duplicate
    assert [e.originator_version for e in again.events] == [3]
    assert again.events[0].activity_id == "c-9"
    assert (again.lead.version, again.lead.attempts) == (first.lead.version, 1)
    assert ledger.find("b@example.com").attempts == 2  # nothing new recorded
    # ids are per lead: another lead may use the same one
    record(ledger, None, {"type": "created", "email": "c@example.com"})
    record(ledger, "c@example.com", {"type": "assigned", "owner": "ana"})
    other = record(ledger, "c@example.com", {"type": "attempted", "channel": "call", "id": "c-9"})
    assert not other.duplicate and other.lead.attempts == 1


def test_without_an_id_only_an_identical_activity_at_an_explicit_time_is_a_duplicate(
    ledger: LeadLedger,
) -> None:
    record(ledger, None, {"type": "created", "email": "d@example.com"})
    record(ledger, "d@example.com", {"type": "assigned", "owner": "ana"})
    touch = {"type": "touched", "kind": "page_view", "content": "x", "occurred_at": AT}

    rows = [
        ({**touch}, True),  # identical
        ({**touch, "occurred_at": "2026-01-05T11:00:00+01:00"}, True),  # the same instant
        ({**touch, "content": "y"}, False),  # another field
        ({**touch, "occurred_at": "2026-01-05T10:00:01Z"}, False),  # another time
        ({**touch, "actor": "someone"}, False),  # another actor
        ({"type": "touched", "kind": "page_view", "content": "x"}, False),  # no time: now
        ({"type": "touched", "kind": "page_view", "content": "x"}, False),  # …every time
    ]
    record(ledger, "d@example.com", touch)
    for body, duplicate in rows:
        assert record(ledger, "d@example.com", body).duplicate is duplicate, body


def test_a_repeated_inquiry_is_a_duplicate_only_when_it_is_the_same_one(
    ledger: LeadLedger,
) -> None:
    inquiry = {"type": "created", "email": "e@example.com", "source": "webinar", "occurred_at": AT}
    record(ledger, None, inquiry)

    same = record(ledger, None, inquiry)
    later = record(ledger, None, {**inquiry, "occurred_at": "2026-01-06T10:00:00Z"})
    later_again = record(ledger, None, {**inquiry, "occurred_at": "2026-01-06T10:00:00Z"})

    assert (same.duplicate, same.deduplicated, [e.TYPE for e in same.events]) == (
        True, True, ["created"],
    )  # fmt: skip
    assert (later.duplicate, [e.TYPE for e in later.events]) == (False, ["touched"])
    assert later_again.duplicate
    assert history(ledger, "e@example.com") == ["created", "touched"]


def test_an_id_holds_only_visible_characters(ledger: LeadLedger) -> None:
    record(ledger, None, {"type": "created", "email": "f@example.com"})
    for bad in ["", "a b", "x" * 256, "tab\there", "zero\u200bwidth", 7]:
        with pytest.raises(ValidationFailed) as caught:
            record(ledger, "f@example.com", {"type": "assigned", "owner": "a", "id": bad})
        assert "id" in caught.value.details["fields"]
    ok = record(ledger, "f@example.com", {"type": "assigned", "owner": "a", "id": "é/" + "x" * 253})
    assert ok.events[0].activity_id == "é/" + "x" * 253


def test_the_import_summary_counts_duplicates_and_exits_0(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lifecycle.bootstrap import main

    path = tmp_path / "file.jsonl"
    path.write_bytes(b"\n".join(FILE) + b"\n")
    assert main(["--database-url", sqlite_url, "import", str(path)]) == 0
    capsys.readouterr()

    assert main(["--database-url", sqlite_url, "import", str(path)]) == 0

    assert capsys.readouterr().out.strip() == (
        "accepted 0 lines (0 events, 0 new leads, 0 deduplicated); duplicates 6; rejected 0"
    )


def big_file(path: Path, leads: int) -> None:
    with path.open("w") as out:
        for n in range(leads):
            email = f"lead-{n}@example.com"
            day = f"2026-01-{1 + n % 28:02d}T"
            lines = [
                {"type": "created", "email": email, "source": "web", "occurred_at": day + "08:00Z"},
                {"type": "assigned", "email": email, "owner": "ana", "occurred_at": day + "09:00Z"},
                {"type": "attempted", "email": email, "channel": "call", "id": f"call-{n}",
                 "occurred_at": day + "10:00Z"},
                {"type": "touched", "email": email, "kind": "page_view",
                 "occurred_at": day + "11:00Z"},
            ]  # fmt: skip
            out.writelines(json.dumps(line) + "\n" for line in lines)


def test_an_import_killed_midway_and_run_again_records_every_line_once(
    tmp_path: Path, database_url: str, make_ledger: Callable[..., LeadLedger]
) -> None:
    path = tmp_path / "big.jsonl"
    leads = 4000
    big_file(path, leads)
    command = [sys.executable, "-m", "lifecycle", "--database-url", database_url, "import"]
    env = {**os.environ, "LIFECYCLE_LOG_LEVEL": "warning"}
    process = subprocess.Popen([*command, str(path)], env=env, stdout=subprocess.DEVNULL)
    ledger = make_ledger(database_url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if (ledger.recorder.max_notification_id() or 0) > 0:
                break  # some chunks are written, the rest not yet
            time.sleep(0.05)
        assert process.poll() is None, "the import finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        written = ledger.recorder.max_notification_id() or 0
    finally:
        if process.poll() is None:
            process.kill()

    rerun = subprocess.run(
        [*command, str(path), "--json"], env=env, capture_output=True, timeout=300
    )

    summary = json.loads(rerun.stdout)
    assert rerun.returncode == 0, rerun.stderr
    assert summary["duplicates"] > 0 and summary["rejected"] == 0
    assert summary["accepted"] + summary["duplicates"] == 4 * leads
    for n in (0, leads // 2, leads - 1):
        assert history(ledger, f"lead-{n}@example.com") == [
            "created", "assigned", "attempted", "touched",
        ], n  # fmt: skip
    assert 0 < written < (ledger.recorder.max_notification_id() or 0)
