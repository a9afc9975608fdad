"""What a phone number is, and the one form it is kept and compared in: E.164.

A client may write a number as people do — `(415) 555-0100`, `415.555.0100 x12`,
`+44 20 7946 0958`, `tel:+1-415-555-0100` — and it is read by Google's libphonenumber rules
(the `phonenumbers` package). A number without a country code is read in a region: the
lead's `country` when that is a two-letter ISO 3166 code libphonenumber knows, else the
rulebook's `contact.default_phone_region`. It is kept as E.164 (`+14155550100`), with
`;ext=12` appended for an extension (RFC 3966's way of writing one), so two spellings of one
number are one value: a phone-only lead is found again by it (`directory.phone_key`).

A value that is not a phone number, or a number no numbering plan gives out (a wrong length,
an unassigned area code), is a `validation_error` naming `phone`.
"""

from __future__ import annotations

from typing import NoReturn

import phonenumbers
from phonenumbers import CountryCodeSource, NumberParseException, PhoneNumberFormat

from .errors import ValidationFailed

# The regions a number without a country code may be read in (ISO 3166-1 alpha-2, upper case).
PHONE_REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)

_WHY_NOT = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country code is not a known one",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


def phone_region(country: str | None, default: str) -> str:
    """The region a number without a country code is read in: `country` if it is a region
    code libphonenumber knows (any case), else `default`."""
    code = (country or "").strip().upper()
    return code if code in PHONE_REGIONS else default


def normalize_phone(phone: str, region: str) -> str:
    """`phone` in E.164 (`+14155550100`, `+14155550100;ext=12` with an extension), a number
    without a country code read in `region`; `ValidationFailed` naming `phone` if it is not a
    valid number."""
    try:
        number = phonenumbers.parse(phone.strip(), region, keep_raw_input=True)
    except NumberParseException as error:
        _refuse(_WHY_NOT.get(error.error_type, "not a phone number"))
    if not phonenumbers.is_valid_number(number):
        national = number.country_code_source == CountryCodeSource.FROM_DEFAULT_COUNTRY
        where = f" in region {region} (give the country code, like +44…)" if national else ""
        _refuse(f"not a valid phone number{where}")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def _refuse(reason: str) -> NoReturn:
    """The number itself is not repeated: messages reach logs, and a phone is personal."""
    raise ValidationFailed(f"invalid phone: {reason}", fields={"phone": reason})
