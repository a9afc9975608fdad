"""Phone numbers in E.164 (docs/activities.md, Values): every spelling of one number is one
value, an extension is kept as `;ext=N`, a number without a country code is read in a region,
and what is not a valid number is a `validation_error` naming `phone`."""

from __future__ import annotations

import pytest

from lifecycle.domain.errors import ValidationFailed
from lifecycle.domain.phones import PHONE_REGIONS, normalize_phone, phone_region

# (as written, region it is read in, E.164 by hand: country code + national number)
SPELLINGS = [
    ("(415) 555-0100", "US", "+14155550100"),
    ("415-555-0100", "US", "+14155550100"),
    ("415.555.0100", "US", "+14155550100"),
    ("4155550100", "US", "+14155550100"),
    ("1 (415) 555-0100", "US", "+14155550100"),
    ("+1 415 555 0100", "US", "+14155550100"),
    ("+1 415 555 0100", "GB", "+14155550100"),  # a country code wins over the region
    ("  +14155550100  ", "DE", "+14155550100"),
    ("tel:+1-415-555-0100", "US", "+14155550100"),
    ("001 415 555 0100", "DE", "+14155550100"),  # the international prefix dialled from DE
    ("1-800-FLOWERS", "US", "+18003569377"),  # letters on the keypad
    ("020 7946 0958", "GB", "+442079460958"),  # the trunk 0 dropped
    ("+44 (0)20 7946 0958", "US", "+442079460958"),
    ("030 123456", "DE", "+4930123456"),
    ("+49 30 123456", "US", "+4930123456"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("03-1234-5678", "JP", "+81312345678"),
]
EXTENSIONS = [
    ("(415) 555-0100 x12", "US", "+14155550100;ext=12"),
    ("415-555-0100 ext. 7", "US", "+14155550100;ext=7"),
    ("+1 415 555 0100 extension 345", "US", "+14155550100;ext=345"),
    ("tel:+1-415-555-0100;ext=9", "US", "+14155550100;ext=9"),
    ("020 7946 0958 ext 2", "GB", "+442079460958;ext=2"),
]
# (as written, region, what the `phone` field says)
INVALID = [
    ("call me maybe", "US", "not a phone number"),
    ("12", "US", "not a valid phone number in region US (give the country code, like +44…)"),
    (
        "030 123456",
        "US",
        "not a valid phone number in region US (give the country code, like +44…)",
    ),
    ("+1 555 0100", "US", "not a valid phone number"),  # seven digits after +1
    ("+1 200 555 0100", "US", "not a valid phone number"),  # no area code 200
    ("+999 1234 5678", "US", "its country code is not a known one"),
    ("+1 415 555 0100 0100 0100 0100", "US", "too long"),
]


@pytest.mark.parametrize("written, region, e164", SPELLINGS + EXTENSIONS)
def test_a_number_is_kept_in_e164(written: str, region: str, e164: str) -> None:
    assert normalize_phone(written, region) == e164


@pytest.mark.parametrize("written, region, why", INVALID)
def test_what_is_not_a_valid_number_is_a_validation_error_naming_phone(
    written: str, region: str, why: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_phone(written, region)

    assert caught.value.code == "validation_error"
    assert caught.value.details == {"fields": {"phone": why}}
    assert written.strip() not in caught.value.message  # a phone is personal: not in messages


@pytest.mark.parametrize(
    "country, expected",
    [("DE", "DE"), ("de", "DE"), (" gb ", "GB"), ("Germany", "US"), ("UK", "US"), (None, "US")],
)
def test_a_leads_country_is_its_region_when_it_is_an_iso_code(
    country: str | None, expected: str
) -> None:
    assert phone_region(country, "US") == expected


def test_the_regions_are_iso_3166_codes() -> None:
    assert {"US", "GB", "DE", "FR", "JP", "CA"} <= PHONE_REGIONS
    assert all(len(code) == 2 and code.isupper() for code in PHONE_REGIONS)
    assert "UK" not in PHONE_REGIONS  # the ISO code of the United Kingdom is GB
