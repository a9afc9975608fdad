"""What text and times a client may send (`domain.inputs`), the rule every boundary uses."""

from __future__ import annotations

from datetime import datetime

import pytest

from lifecycle.domain.inputs import check_text, check_time, normalize_email

REFUSED_EVERYWHERE = {
    "NUL": "\x00",
    "unit separator": "\x1f",
    "escape": "\x1b",
    "delete": "\x7f",
    "next line (C1)": "\x85",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "right-to-left override": "\u202e",
    "byte-order mark": "\ufeff",
    "lone surrogate": "\ud800",
    "surrogate from argv": "\udcff",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
}
LINE_ENDS = {"tab": "\t", "newline": "\n", "carriage return": "\r"}
ACCEPTED = ["Ann", "Zoë O'Brien", "株式会社", "a b", "no\u00a0break", "emoji 🙂", "x" * 500]


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE.keys())
@pytest.mark.parametrize("free_text", [False, True], ids=["line", "free text"])
def test_control_invisible_and_surrogate_characters_are_refused(char: str, free_text: bool):
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        check_text(f"we{char}b", free_text=free_text)


@pytest.mark.parametrize("char", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_free_text_keeps_tabs_and_line_ends_but_a_line_does_not(char: str):
    assert check_text(f"one{char}two", free_text=True) == f"one{char}two"
    with pytest.raises(ValueError):
        check_text(f"one{char}two")


@pytest.mark.parametrize("text", ACCEPTED)
def test_ordinary_text_in_any_script_is_kept_as_it_is(text: str):
    assert check_text(text) == text


TIMES = {
    "1899-12-31T23:59:59Z": False,
    "1900-01-01T00:00:00Z": True,
    "2026-03-02T09:00:00+01:00": True,
    "2199-12-31T23:59:59Z": True,
    "2200-01-01T00:00:00Z": False,
    "1900-01-01T00:30:00+01:00": False,  # 1899-12-31T23:30Z
    "2199-12-31T23:30:00-01:00": False,  # 2200-01-01T00:30Z
    "0001-01-01T00:00:00+14:00": False,  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00": False,  # after year 9999 in UTC
}


@pytest.mark.parametrize(("text", "accepted"), TIMES.items(), ids=TIMES.keys())
def test_times_must_lie_between_1900_and_2200_in_utc(text: str, accepted: bool):
    moment = datetime.fromisoformat(text)
    if accepted:
        assert check_time(moment) == moment
    else:
        with pytest.raises(ValueError, match="1900-01-01"):
            check_time(moment)


@pytest.mark.parametrize(
    ("given", "compared"),
    [
        ("Ann@Example.com", "ann@example.com"),
        ("  ann@example.com \n", "ann@example.com"),
        ("ａｎｎ@ｅｘａｍｐｌｅ.com", "ann@example.com"),  # fullwidth letters
        ("ann＠example.com", "ann@example.com"),  # fullwidth at sign
        ("", None),
        (None, None),
    ],
)
def test_emails_compare_in_compatibility_form_trimmed_and_lower_cased(given, compared):
    assert normalize_email(given) == compared
