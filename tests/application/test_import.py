"""Bulk import: accepted lines are kept, each rejected line is reported with its number."""

import json
from pathlib import Path

import pytest
from helpers import ManualClock

from lifecycle.app.importer import run_import
from lifecycle.app.ledger import LeadLedger


def jsonl(*lines: object) -> list[bytes]:
    return [(line if isinstance(line, str) else json.dumps(line)).encode() for line in lines]


def test_good_lines_are_kept_and_bad_ones_reported_by_line_number(ledger: LeadLedger) -> None:
    lines = jsonl(
        {"type": "created", "email": "ann@example.com", "external_id": "crm-1"},
        {"type": "assigned", "external_id": "crm-1", "owner": "na-bdr-1"},
        "{not json",
        {"type": "attempted", "email": "nobody@example.com", "channel": "email"},
        {"type": "won", "external_id": "crm-1", "amount": 100},
        {"type": "attempted", "email": "ANN@example.com ", "channel": "call"},
        ["not", "an", "object"],
        {"type": "attempted", "channel": "call"},
    )

    report = run_import(ledger, lines)

    assert report.accepted == 3
    assert [(r.line, r.error["code"]) for r in report.rejected] == [
        (3, "validation_error"),
        (4, "not_found"),
        (5, "transition_not_allowed"),
        (7, "validation_error"),
        (8, "validation_error"),
    ]
    lead = ledger.find("crm-1")
    assert (lead.status.value, lead.attempts, lead.owner) == ("attempt_1", 1, "na-bdr-1")


def test_a_rejected_line_records_nothing_and_the_rest_of_its_chunk_lands(
    ledger: LeadLedger,
) -> None:
    lines = jsonl(
        {"type": "created", "email": "a@example.com"},
        {"type": "assigned", "email": "a@example.com", "owner": "na-bdr-1"},
        {"type": "qualified", "email": "a@example.com", "budget": True},
        {"type": "touched", "email": "a@example.com", "kind": "webinar"},
    )

    report = run_import(ledger, lines, chunk_size=10)

    assert [r.error["code"] for r in report.rejected] == ["soft_bant_not_met"]
    events = ledger.lead_events(ledger.find("a@example.com").id)
    assert [type(e).TYPE for e in events] == ["created", "assigned", "touched"]


def test_created_lines_for_a_known_email_deduplicate(ledger: LeadLedger) -> None:
    lines = jsonl(
        {"type": "created", "email": "b@example.com", "source": "web"},
        {"type": "created", "email": " B@Example.com", "source": "webinar"},
    )

    report = run_import(ledger, lines)

    assert (report.created, report.deduplicated, report.accepted) == (1, 1, 2)
    events = ledger.lead_events(ledger.find("b@example.com").id)
    assert [type(e).TYPE for e in events] == ["created", "touched"]


def test_lines_spanning_chunks_reach_the_same_lead(ledger: LeadLedger) -> None:
    lines = jsonl(
        {"type": "created", "email": "c@example.com"},
        *({"type": "touched", "email": "c@example.com", "kind": "page_view"} for _ in range(9)),
    )

    report = run_import(ledger, lines, chunk_size=4)

    assert report.accepted == 10
    assert ledger.find("c@example.com").version == 10


def test_a_reopened_line_referenced_by_external_id_corrects_the_email(
    ledger: LeadLedger,
) -> None:
    lines = jsonl(
        {"type": "created", "email": "old@example.com", "external_id": "crm-7"},
        {"type": "bad_data", "external_id": "crm-7", "channel": "email"},
        {"type": "reopened", "external_id": "crm-7", "email": "new@example.com"},
    )

    report = run_import(ledger, lines)

    assert report.rejected == []
    assert ledger.find("new@example.com").external_id == "crm-7"


@pytest.fixture
def import_file(tmp_path: Path) -> Path:
    path = tmp_path / "leads.jsonl"
    path.write_text(
        '{"type": "created", "email": "d@example.com", "external_id": "crm-d"}\n'
        '{"type": "assigned", "external_id": "crm-d", "owner": "na-bdr-2"}\n'
        "\n"
        '{"type": "flew", "external_id": "crm-d"}\n'
    )
    return path


def test_the_import_command_exits_1_and_lists_rejected_lines(
    import_file: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str], clock: ManualClock
) -> None:
    from lifecycle.bootstrap import main

    code = main(["--database-url", sqlite_url, "import", str(import_file), "--json"])

    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (out["accepted"], out["rejected"], out["leads_created"]) == (2, 1, 1)
    assert [(e["line"], e["code"]) for e in out["errors"]] == [(4, "validation_error")]


def test_lead_show_and_timeline_print_the_contract_json(
    import_file: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lifecycle.bootstrap import main

    main(["--database-url", sqlite_url, "import", str(import_file)])
    capsys.readouterr()

    assert main(["--database-url", sqlite_url, "lead", "show", "D@example.com", "--json"]) == 0
    lead = json.loads(capsys.readouterr().out)
    assert (lead["status"], lead["owner"], lead["version"]) == ("open", "na-bdr-2", 2)
    assert main(["lead", "timeline", "crm-d", "--json", "--database-url", sqlite_url]) == 0
    timeline = json.loads(capsys.readouterr().out)
    assert [e["seq"] for e in timeline["events"]] == [1, 2]
    assert set(timeline["events"][0]) == {
        "seq", "type", "occurred_at", "recorded_at", "actor", "activity_id", "status", "stage",
        "data",
    }  # fmt: skip


def test_an_unknown_lead_is_exit_1_with_the_error_json_on_stderr(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lifecycle.bootstrap import main

    assert main(["--database-url", sqlite_url, "lead", "show", "nobody@example.com"]) == 1
    error = json.loads(capsys.readouterr().err)
    assert error["error"]["code"] == "not_found"


def test_a_naive_as_of_time_is_bad_usage(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lifecycle.bootstrap import main

    with pytest.raises(SystemExit) as exit_:
        main(["--database-url", sqlite_url, "lead", "show", "x", "--as-of", "2026-01-01T00:00"])
    assert exit_.value.code == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "validation_error"
