"""Rejections the domain can give. Each has the stable `code` of docs/json.md."""

from __future__ import annotations

from typing import Any


class LifecycleError(Exception):
    """A rejected command: a stable code, a human message and extra JSON fields."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class TransitionNotAllowed(LifecycleError):
    code = "transition_not_allowed"


class SoftBantNotMet(LifecycleError):
    code = "soft_bant_not_met"


class HasContactChannel(LifecycleError):
    code = "has_contact_channel"


class OutOfOrder(LifecycleError):
    code = "out_of_order"


class OccurredInFuture(LifecycleError):
    code = "occurred_in_future"


class ValidationFailed(LifecycleError):
    code = "validation_error"


class Conflict(LifecycleError):
    code = "conflict"


class NotFound(LifecycleError):
    code = "not_found"


class Unavailable(LifecycleError):
    """The store cannot take a write now (a database file that cannot be written, say):
    nothing was recorded, and the same request may be retried."""

    code = "unavailable"


class IntegrityFailed(LifecycleError):
    """A record's stored events are damaged (one is missing, or no longer decodes): it can be
    neither read nor changed until they are repaired. Other records are not affected."""

    code = "integrity_error"
