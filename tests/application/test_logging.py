import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import json_logs

from lifecycle import logs
from lifecycle.app.recording import Submission

_REPO = Path(__file__).resolve().parents[2]
_ENV = {**os.environ, "PYTHONPATH": str(_REPO)}


def test_recorded_activities_are_logged_with_the_lead_id_and_no_personal_data(ledger):
    with json_logs() as out:
        body = {
            "type": "created",
            "email": "Secret.Person@example.com",
            "phone": "+14155550001",
            "first_name": "Secret",
            "last_name": "Person",
        }
        lead = ledger.record(Submission(None, body, "test")).lead
        ledger.record(Submission(str(lead.id), {"type": "assigned", "owner": "na-bdr-1"}, "test"))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["activity"] for line in lines] == ["created", "assigned"]
    assert {line["lead_id"] for line in lines} == {str(lead.id)}
    text = out.getvalue().lower()
    for personal in ("secret", "person", "+14155550001", "example.com"):
        assert personal not in text


def test_the_redaction_processor_hides_personal_fields():
    event = logs.redact_personal_data(None, "info", {"email": "a@b.c", "lead_id": "x"})
    assert event == {"email": "[redacted]", "lead_id": "x"}


# ------------------------------------------------ the records as `configure` writes them
_WRITERS = """
import logging, sys, threading, warnings
import structlog
from lifecycle import logs

logs.configure(json=True)
log = structlog.get_logger("test")

def write(thread):
    for n in range(RECORDS):
        log.info("record", process=sys.argv[1], thread=thread, n=n, padding="x" * (n % 3000))

threads = [threading.Thread(target=write, args=(t,)) for t in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def _run_writers(count: int, threads: int, records: int) -> list[str]:
    """`count` processes of `threads` threads each, logging `records` records per thread into
    one pipe, as the processes of one `serve` share stderr; returns the lines read."""
    script = f"THREADS, RECORDS = {threads}, {records}\n{_WRITERS}"
    read_end, write_end = os.pipe()
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(p)], stderr=write_end, env=_ENV)
        for p in range(count)
    ]
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read()
    for process in processes:
        assert process.wait(60) == 0
    return output.decode().splitlines()


def test_records_of_several_processes_and_threads_sharing_stderr_are_never_glued():
    lines = _run_writers(count=2, threads=4, records=1500)

    records = [json.loads(line) for line in lines]  # each line is one whole record
    assert len(records) == 2 * 4 * 1500
    assert {(r["process"], r["thread"]) for r in records} == {
        (str(p), t) for p in range(2) for t in range(4)
    }


def _run(script: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_ENV, timeout=60
    )
    return [json.loads(line) for line in done.stderr.splitlines()]


def test_a_standard_library_record_with_a_traceback_is_one_json_record():
    records = _run(
        "import logging\n"
        "from lifecycle import logs\n"
        "logs.configure(json=True)\n"
        "try:\n"
        "    1 / 0\n"
        "except ZeroDivisionError:\n"
        "    logging.getLogger('uvicorn.error').exception('Exception in ASGI application')\n"
    )

    (record,) = records
    assert record["event"] == "Exception in ASGI application"
    assert (record["level"], record["logger"]) == ("error", "uvicorn.error")
    assert record["exception"][0]["exc_type"] == "ZeroDivisionError"
    assert record["timestamp"].endswith("Z")


def test_an_exception_nobody_caught_in_a_thread_is_one_json_record():
    records = _run(
        "import threading\n"
        "from lifecycle import logs\n"
        "logs.configure(json=True)\n"
        "def fail():\n"
        "    raise RuntimeError('lost in a thread')\n"
        "thread = threading.Thread(target=fail, name='catch-up')\n"
        "thread.start(); thread.join()\n"
    )

    (record,) = records
    assert (record["event"], record["thread"], record["error"]) == (
        "uncaught_exception",
        "catch-up",
        "RuntimeError",
    )
    assert record["exception"][0]["exc_value"] == "lost in a thread"


def test_a_warning_is_one_json_record():
    (record,) = _run(
        "import warnings\n"
        "from lifecycle import logs\n"
        "logs.configure(json=True)\n"
        "warnings.warn('something is deprecated', DeprecationWarning, stacklevel=1)\n"
    )

    assert record["logger"] == "py.warnings"
    assert "something is deprecated" in record["event"]
