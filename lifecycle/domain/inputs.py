"""What any text or time a client sends may be: the one definition, used at every boundary.

Every store, read model and answer must be able to hold what is recorded. PostgreSQL text
cannot hold NUL; a lone surrogate cannot be encoded as UTF-8 JSON; control and invisible
format characters make two values that look the same compare different (an email with a
zero-width space is another lead). So text refuses them all, and times must lie in a range
that every engine, every time zone and every report can represent.

The rules raise `ValueError` with a message for the person who sent the value; the
boundaries (activities, query parameters, CLI options) turn it into a `validation_error`
naming the field.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # excluded
TIME_RANGE = "from 1900-01-01T00:00:00Z up to (not including) 2200-01-01T00:00:00Z"

# Unicode general categories no text may hold: controls (Cc: NUL, ESC, NEL…), invisible format
# characters (Cf: zero-width space and joiners, bidi overrides, the byte-order mark…) and
# surrogates (Cs: a lone one cannot be encoded). Free text may keep tabs and line ends (CR, LF).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_FREE_TEXT_ALLOWED = frozenset("\t\n\r")
# Line and paragraph separators break a one-line value (a name, an id) as a newline would.
_LINE_BREAKS = frozenset("\u2028\u2029")


def check_text(value: str, free_text: bool = False) -> str:
    """`value` if it holds no control, invisible or surrogate character (free text may hold
    tabs, CR and LF); else `ValueError` naming the first offending character."""
    if value.isprintable() and not (_LINE_BREAKS & set(value)):
        return value  # the common case, checked in C
    allowed = _FREE_TEXT_ALLOWED if free_text else frozenset()
    for index, char in enumerate(value):
        if char in allowed:
            continue
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char in _LINE_BREAKS:
            raise ValueError(f"must not contain {_described(char)} (at character {index + 1})")
    return value


def check_time(value: datetime) -> datetime:
    """`value` if it is an aware time within `TIME_RANGE` once converted to UTC."""
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None  # beyond year 1 or 9999 in UTC
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValueError(f"must lie {TIME_RANGE}")
    return value


def normalize_email(email: str | None) -> str | None:
    """Emails compare in Unicode compatibility form (NFKC: a fullwidth `ａ` is an `a`),
    trimmed and case-insensitively; empty means absent."""
    cleaned = unicodedata.normalize("NFKC", email or "").strip().lower()
    return cleaned or None


def _described(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}" if name else f"{code} (a control character)"
