"""Bulk import of JSONL activities: accepted lines are kept, rejected ones are reported.

Lines are processed in chunks; each chunk is one batch (one atomic write of every event it
accepted). A line the domain rejects records nothing, so the rest of its chunk is unaffected.
If another writer changed one of the chunk's leads meanwhile, the whole chunk is run again
from fresh state — a retry never records a line twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson

from . import activities as act
from .application import Batch, LeadLedger
from .domain.errors import LifecycleError, ValidationFailed
from .domain.lead import ContactDetails
from .logs import get_logger

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
    events: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": len(self.rejected),
            "leads_created": self.created,
            "deduplicated": self.deduplicated,
            "events": self.events,
            "errors": [rejection.as_dict() for rejection in self.rejected],
        }


def split_reference(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The lead reference of an import line, and the activity without it.

    Precedence: `lead_id`, then `external_id`, then `email`. A `created` line keeps its
    email and external id (they are the new lead's fields). A `reopened` line referenced by
    id or external id keeps `email` as the corrected address.
    """
    if body.get("type") == "created":
        return None, {k: v for k, v in body.items() if k != "lead_id"}
    ref_key = next((key for key in REFERENCE_KEYS if body.get(key)), None)
    ref = str(body[ref_key]) if ref_key else None
    keep_email = body.get("type") == "reopened" and ref_key != "email"
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


def _run_chunk(batch: Batch, chunk: list[tuple[int, bytes]], actor: str) -> ImportReport:
    _prefetch(batch, chunk)
    report = ImportReport()
    for number, raw in chunk:
        if not raw.strip():
            continue
        try:
            _run_line(batch, raw, actor, report)
        except LifecycleError as error:
            report.rejected.append(Rejection(number, error.as_dict()["error"]))
        except Exception as error:
            log.exception("import_line_failed", line=number, error_type=type(error).__name__)
            body = {"code": "internal_error", "message": "this line could not be processed"}
            report.rejected.append(Rejection(number, body))
    return report


def _run_line(batch: Batch, raw: bytes, actor: str, report: ImportReport) -> None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationFailed(f"malformed JSON: {error}", fields={"line": "not JSON"}) from None
    if not isinstance(body, dict):
        raise ValidationFailed("a line must be a JSON object", fields={"line": "not an object"})
    ref, activity_body = split_reference(body)
    activity = act.parse_activity(activity_body)
    if not isinstance(activity, act.Created) and ref is None:
        raise ValidationFailed(
            "a line needs a lead reference: lead_id, external_id or email",
            fields={"lead_id": "required"},
        )
    recorded = batch.perform(ref, activity, actor)
    report.accepted += 1
    report.events += len(recorded.events)
    if isinstance(activity, act.Created):
        report.deduplicated += recorded.deduplicated
        report.created += not recorded.deduplicated


def _prefetch(batch: Batch, chunk: list[tuple[int, bytes]]) -> None:
    """Reads every lead and key the chunk will need in two queries instead of one per line."""
    refs: list[str] = []
    created: list[ContactDetails] = []
    for _, raw in chunk:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(body, dict):
            continue
        ref, fields = split_reference(body)
        if ref:
            refs.append(ref)
        elif body.get("type") == "created":
            email, external_id = fields.get("email"), fields.get("external_id")
            created.append(ContactDetails(
                email=email if isinstance(email, str) else None,
                external_id=external_id if isinstance(external_id, str) else None,
            ))  # fmt: skip
    batch.prefetch_refs(refs, created)


def _merge(total: ImportReport, part: ImportReport) -> None:
    total.accepted += part.accepted
    total.created += part.created
    total.deduplicated += part.deduplicated
    total.events += part.events
    total.rejected.extend(part.rejected)
