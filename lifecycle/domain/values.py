"""The vocabulary of the lead domain: statuses, stages, channels, regions and touch kinds."""

from __future__ import annotations

from enum import Enum


class Status(Enum):
    """The work state of a lead (seed 004, "Lead status")."""

    RAW = "raw"
    OPEN = "open"
    ATTEMPT_1 = "attempt_1"
    ATTEMPT_2 = "attempt_2"
    ATTEMPT_3 = "attempt_3"
    ATTEMPT_4 = "attempt_4"
    PROGRESSING = "progressing"
    QUALIFIED = "qualified"
    UNQUALIFIED = "unqualified"
    NURTURE = "nurture"
    BAD_DATA = "bad_data"

    @property
    def is_attempt(self) -> bool:
        return self in ATTEMPT_STATUSES


ATTEMPT_STATUSES = frozenset(
    {Status.ATTEMPT_1, Status.ATTEMPT_2, Status.ATTEMPT_3, Status.ATTEMPT_4}
)


class Stage(Enum):
    """The funnel position of a lead (HubSpot lifecycle stages); it only moves forward."""

    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"

    @property
    def rank(self) -> int:
        return STAGE_ORDER.index(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return self.rank < other.rank


STAGE_ORDER = (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)


class Region(Enum):
    EMEA = "emea"
    NA = "na"
    APAC = "apac"
    LATAM = "latam"
    OTHER = "other"


class Channel(Enum):
    """How a contact attempt or a response travelled."""

    EMAIL = "email"
    CALL = "call"
    LINKEDIN = "linkedin"
    SMS = "sms"
    OTHER = "other"


class ContactChannel(Enum):
    """Which way of reaching a lead was found not to work (the `bad_data` activity)."""

    EMAIL = "email"
    PHONE = "phone"
    ALL = "all"


class TouchKind(Enum):
    """A marketing interaction that feeds the score and attribution."""

    PAGE_VIEW = "page_view"
    FORM_SUBMISSION = "form_submission"
    CONTENT_DOWNLOAD = "content_download"
    EMAIL_CLICK = "email_click"
    WEBINAR = "webinar"
    EVENT = "event"
    AD_CLICK = "ad_click"
    DEMO_REQUEST = "demo_request"
    PRICING_VIEW = "pricing_view"


class Outcome(Enum):
    """How an opportunity ended."""

    WON = "won"
    LOST = "lost"


class Policy(Enum):
    """The timer policies of docs/activities.md, "Timers and SLA policies"."""

    FIRST_ATTEMPT = "first_attempt"
    MQL_FOLLOW_UP = "mql_follow_up"
    CADENCE = "cadence"
    AUTO_NURTURE = "auto_nurture"
    PASSED_FOLLOW_UP = "passed_follow_up"
    OPT_OUT_EXPIRY = "opt_out_expiry"


ALL_ENUMS: tuple[type[Enum], ...] = (
    Status,
    Stage,
    Region,
    Channel,
    ContactChannel,
    TouchKind,
    Outcome,
    Policy,
)
