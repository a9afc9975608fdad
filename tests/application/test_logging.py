import json

from helpers import json_logs

from lifecycle import logs


def test_recorded_activities_are_logged_with_the_lead_id_and_no_personal_data(ledger):
    with json_logs() as out:
        body = {
            "type": "created",
            "email": "Secret.Person@example.com",
            "phone": "+15550001",
            "first_name": "Secret",
            "last_name": "Person",
        }
        lead = ledger.submit(None, body, "test").lead
        ledger.submit(str(lead.id), {"type": "assigned", "owner": "na-bdr-1"}, "test")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["activity"] for line in lines] == ["created", "assigned"]
    assert {line["lead_id"] for line in lines} == {str(lead.id)}
    text = out.getvalue().lower()
    for personal in ("secret", "person", "+15550001", "example.com"):
        assert personal not in text


def test_the_redaction_processor_hides_personal_fields():
    event = logs.redact_personal_data(None, "info", {"email": "a@b.c", "lead_id": "x"})
    assert event == {"email": "[redacted]", "lead_id": "x"}
