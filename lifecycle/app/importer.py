"""Bulk import of JSONL activities: accepted lines are kept, rejected ones are reported.

Lines are processed in chunks; each chunk is one batch (one atomic write of every event it
accepted). A line the domain rejects records nothing, so the rest of its chunk is unaffected.
If another writer changed one of the chunk's leads meanwhile, the whole chunk is run again
from fresh state — a retry never records a line twice. A line already recorded on its lead
(the same `id`, or the same content and explicit `occurred_at`: docs/activities.md,
Duplicates) is counted as a duplicate and records nothing, so a file imported again, or an
import resumed after a crash (the chunks written are whole), records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson

from ..domain.errors import LifecycleError, ValidationFailed
from ..domain.lead import ContactDetails
from ..logs import get_logger
from . import activities as act
from .batch import Batch
from .ledger import LeadLedger

REFERENCE_KEYS = ("lead_id", "external_id", "email")
log = get_logger(__name__)


@dataclass(frozen=True)
class Rejection:
    line: int
    error: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, **self.error}


@dataclass
class ImportReport:
    accepted: int = 0
    created: int = 0
    deduplicated: int = 0
    duplicates: int = 0
    events: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "leads_created": self.created,
            "deduplicated": self.deduplicated,
            "duplicates": self.duplicates,
            "events": self.events,
            "errors": [rejection.as_dict() for rejection in self.rejected],
        }


def split_reference(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The lead reference of an import line, and the activity without it.

    Precedence: `lead_id`, then `external_id`, then `email`. A `created` line keeps its
    email and external id (they are the new lead's fields). A `reopened` or `updated` line
    referenced by id or external id keeps `email` as the corrected (or new) address.
    """
    if body.get("type") == "created":
        return None, {k: v for k, v in body.items() if k != "lead_id"}
    ref_key = next((key for key in REFERENCE_KEYS if body.get(key)), None)
    ref = str(body[ref_key]) if ref_key else None
    keep_email = body.get("type") in ("reopened", "updated") and ref_key != "email"
    dropped = {"lead_id", "external_id"} | (set() if keep_email else {"email"})
    return ref, {k: v for k, v in body.items() if k not in dropped}


def run_import(
    ledger: LeadLedger,
    lines: Iterable[bytes],
    actor: str = "import",
    chunk_size: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    numbered: Iterator[tuple[int, bytes]] = enumerate(lines, start=1)
    while chunk := list(islice(numbered, chunk_size)):
        chunk_report = ledger.in_batch(lambda batch, c=chunk: _run_chunk(batch, c, actor))  # type: ignore[misc]
        _merge(report, chunk_report)
        if on_progress:
            on_progress(len(chunk))
    return report


@dataclass(frozen=True)
class _Line:
    """An import line parsed once: its reference and activity, or why it cannot be used."""

    number: int
    ref: str | None = None
    body: dict[str, Any] | None = None
    error: LifecycleError | None = None


def _parse(number: int, raw: bytes) -> _Line | None:
    if not raw.strip():
        return None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        problem = ValidationFailed(f"malformed JSON: {error}", fields={"line": "not JSON"})
        return _Line(number, error=problem)
    if not isinstance(body, dict):
        problem = ValidationFailed("a line must be a JSON object", fields={"line": "not an object"})
        return _Line(number, error=problem)
    ref, activity_body = split_reference(body)
    return _Line(number, ref, activity_body)


def _run_chunk(batch: Batch, chunk: list[tuple[int, bytes]], actor: str) -> ImportReport:
    lines = [line for number, raw in chunk if (line := _parse(number, raw)) is not None]
    _prefetch(batch, lines)
    report = ImportReport()
    for line in lines:
        try:
            _run_line(batch, line, actor, report)
        except LifecycleError as error:
            report.rejected.append(Rejection(line.number, error.as_dict()["error"]))
        except Exception as error:
            log.exception("import_line_failed", line=line.number, error_type=type(error).__name__)
            body = {"code": "internal_error", "message": "this line could not be processed"}
            report.rejected.append(Rejection(line.number, body))
    return report


def _run_line(batch: Batch, line: _Line, actor: str, report: ImportReport) -> None:
    if line.error is not None:
        raise line.error
    activity = act.parse_activity(line.body)
    if not isinstance(activity, act.Created) and line.ref is None:
        raise ValidationFailed(
            "a line needs a lead reference: lead_id, external_id or email",
            fields={"lead_id": "required"},
        )
    recorded = batch.record(line.ref, activity, actor)
    if recorded.duplicate is not None:  # recorded before: by an earlier run, or this one
        report.duplicates += 1
        return
    report.accepted += 1
    report.events += len(recorded.events)
    if isinstance(activity, act.Created):
        report.deduplicated += recorded.deduplicated
        report.created += not recorded.deduplicated


def _prefetch(batch: Batch, lines: list[_Line]) -> None:
    """Reads every lead and key the chunk will need in two queries instead of one per line."""
    refs = [line.ref for line in lines if line.ref]
    created = [
        ContactDetails(
            email=_text(line.body.get("email")),
            external_id=_text(line.body.get("external_id")),
            phone=_text(line.body.get("phone")),
            country=_text(line.body.get("country")),
        )
        for line in lines
        if line.ref is None and line.body is not None and line.body.get("type") == "created"
    ]
    batch.prefetch_refs(refs, created)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _merge(total: ImportReport, part: ImportReport) -> None:
    total.accepted += part.accepted
    total.created += part.created
    total.deduplicated += part.deduplicated
    total.duplicates += part.duplicates
    total.events += part.events
    total.rejected.extend(part.rejected)
