"""`/v1/reports/*` say when a read model they read skips quarantined leads."""

from __future__ import annotations

import pytest
from api_support import new_lead
from sqlalchemy import text

READS = {"sla": ("sla_clocks", "lead_facts"), "attribution": ("lead_facts", "touches")}
REPORTS = ["funnel", "status", "sla", "activity", "time-in-status", "attribution"]


def _break_creation(api, lead_id):
    """Garbage in the lead's stored creation event: it no longer decodes."""
    services = api.services
    table = services.ledger.recorder.events_table_name
    key = lead_id if services.engine.dialect.name == "postgresql" else lead_id.replace("-", "")
    with services.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET state = :s WHERE originator_id = '{key}' "
                          "AND originator_version = 1"), {"s": b"\xff"})  # fmt: skip


@pytest.fixture
def broken(api_on, database_url):
    api = api_on(database_url)
    writer = api.bearer("events:write")
    new_lead(api.client, writer, email="a@example.com")
    lead = new_lead(api.client, writer, email="b@example.com")
    _break_creation(api, lead["id"])
    api.catch_up()
    return api


@pytest.mark.parametrize("name", REPORTS)
def test_a_report_from_a_read_model_that_skips_leads_carries_a_warning(broken, name):
    answer = broken.client.get(f"/v1/reports/{name}", headers=broken.bearer("reports:read"))
    assert answer.status_code == 200
    warnings = answer.json()["warnings"]
    assert [w["projection"] for w in warnings] == list(READS.get(name, ("lead_facts",)))
    assert {w["code"] for w in warnings} == {"projection_quarantine"}
    assert all(w["leads"] == 1 and w["message"] for w in warnings)


def test_a_healthy_report_has_no_warnings(api, client):
    api.catch_up()
    answer = client.get("/v1/reports/funnel", headers=api.bearer("reports:read"))
    assert answer.json()["warnings"] == []


def test_the_openapi_document_describes_the_warnings(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Funnel", "Status", "Sla", "Activity", "TimeInStatus", "Attribution", "Plan"):
        assert "warnings" in schemas[f"{name}Report"]["required"]
    assert set(schemas["ReportWarning"]["required"]) == {"code", "projection", "leads", "message"}
