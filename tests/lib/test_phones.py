"""Phone numbers: ``searchable_digits`` builds the number from its E.164 text instead of
parsing it a second time, and must give what the parse gave, byte for byte — its result
is ``Customer.search_phone``, which the lookup indexes hold."""

from __future__ import annotations

import functools
import random

import phonenumbers
import pytest

from prepaid.lib.phones import PhoneError, normalize_phone, searchable_digits


def parsed_again(e164: str) -> str:
    """``searchable_digits`` as it was: the stored number parsed a second time."""
    if not e164:
        return ""
    again = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.NATIONAL)
    return f"{e164.lstrip('+')} {''.join(ch for ch in national if ch.isdigit())}"


WRITTEN = [
    # The Philippines: mobiles with and without the trunk zero, landlines, +63.
    ("PH", "09171234567"),
    ("PH", 9171234567),  # a number cell: the leading zero is lost
    ("PH", "9171234567.0"),  # through a spreadsheet's float
    ("PH", "0917 123 4567"),
    ("PH", "0917-123-4567"),
    ("PH", "+63 917 123 4567"),
    ("PH", "+639171234567"),
    ("PH", "00639171234567"),
    ("PH", "(02) 8123 4567"),
    ("PH", 281234567),
    ("PH", "  0917.123.4567  "),
    # The Netherlands.
    ("NL", "0612345678"),
    ("NL", 612345678),
    ("NL", "06-12345678"),
    ("NL", "06 1234 5678"),
    ("NL", "+31 6 12345678"),
    ("NL", "0031612345678"),
    ("NL", "020 123 4567"),
    ("NL", 201234567),
    ("NL", "0800 0123"),
    ("NL", "06 12345678 ext. 12"),
    # The United States.
    ("US", "(212) 555-0123"),
    ("US", 2125550123),
    ("US", "212.555.0123"),
    ("US", "+1 212 555 0123"),
    ("US", "1-212-555-0123"),
    ("US", "212-555-0123 x42"),
    ("US", "(800) 555-0199"),
    # China: mobiles, Beijing and Shanghai landlines, +86.
    ("CN", "13812345678"),
    ("CN", 13812345678),
    ("CN", "138 1234 5678"),
    ("CN", "+86 138 1234 5678"),
    ("CN", "010 1234 5678"),
    ("CN", "010-12345678"),
    ("CN", 1012345678),
    ("CN", "021 6123 4567"),
    ("CN", "+86 21 6123 4567"),
    # Foreign numbers in the shop's sheet, and national numbers that keep a leading zero.
    ("PH", "+31 6 12345678"),
    ("NL", "+86 138 1234 5678"),
    ("US", "+63 917 123 4567"),
    ("IT", "06 1234 5678"),
    ("IT", "+39 06 1234 5678"),
    ("IT", "333 123 4567"),
    ("CI", "+225 01 23 45 67 89"),
    ("GB", "020 7946 0958"),
    ("DE", "030 12345678"),
    ("JP", "03-1234-5678"),
    ("PH", "+800 1234 5678"),  # a calling code of no country
]


@pytest.mark.parametrize(("region", "text"), WRITTEN)
def test_the_search_digits_are_those_a_second_parse_gave(region, text):
    e164 = normalize_phone(text, region)
    assert searchable_digits(e164, region) == parsed_again(e164)


def test_the_search_digits_read_as_people_type_them():
    assert searchable_digits("+639171234567", "PH") == "639171234567 09171234567"
    assert searchable_digits("+31612345678", "NL") == "31612345678 0612345678"
    assert searchable_digits("+8613812345678", "CN") == "8613812345678 13812345678"
    assert searchable_digits("+390612345678", "IT") == "390612345678 0612345678"
    assert searchable_digits("", "PH") == ""


ODD = [
    "+390012345678",  # leading zeros no valid number has
    "+3900",
    "+3900000",
    "+07123456789",  # no calling code starts with 0
    "+999123",  # no such calling code
    "+1",
    "+",
    "+1 212 555 0123",
    "0917",
    "+६३९१७",  # digits, but not ASCII ones
]


@pytest.mark.parametrize("text", ODD)
def test_text_of_any_other_shape_gives_what_the_parse_gave(text):
    try:
        expected = parsed_again(text)
    except phonenumbers.NumberParseException as refused:
        with pytest.raises(phonenumbers.NumberParseException) as also:
            searchable_digits(text, "PH")
        assert also.value.error_type == refused.error_type
    else:
        assert searchable_digits(text, "PH") == expected


@functools.cache
def numbers_of_every_kind() -> list[phonenumbers.PhoneNumber]:
    """The example number of every region, kind of line and non-geographic calling code,
    and ten valid neighbours of each (other last digits, one digit more or fewer)."""
    examples = [
        phonenumbers.example_number_for_type(region, kind)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in range(phonenumbers.PhoneNumberType.UAN + 1)
    ] + [
        phonenumbers.example_number_for_non_geo_entity(code)
        for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    ]
    rng = random.Random(2026)
    found = []
    for example in filter(None, examples):
        found.append(example)
        national = phonenumbers.national_significant_number(example)
        for _ in range(10):
            changed = rng.randint(1, min(len(national) - 1, 5))
            digits = national[:-changed] + "".join(rng.choices("0123456789", k=changed))
            digits = rng.choice([digits, digits[:-1], digits + rng.choice("0123456789")])
            try:
                number = phonenumbers.parse(f"+{example.country_code}{digits}", None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                found.append(number)
    return found


def test_every_kind_of_number_of_every_region_gets_the_same_digits():
    compared = 0
    for number in numbers_of_every_kind():
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        assert searchable_digits(e164, "US") == parsed_again(e164), e164
        compared += 1
    assert compared > 5000


def test_numbers_as_sheets_write_them_get_the_same_digits_as_before():
    """Each example written nationally, internationally and as a number cell without its
    leading zero, normalised in its own region and in the shop's."""
    compared = 0
    for number in numbers_of_every_kind()[::7]:
        region = phonenumbers.region_code_for_number(number)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        written = [
            national,
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            "".join(ch for ch in national if ch.isdigit()).lstrip("0"),
        ]
        for text in written:
            for shop in {region, "PH"} - {"001", None}:
                try:
                    e164 = normalize_phone(text, shop)
                except PhoneError:
                    continue
                assert searchable_digits(e164, shop) == parsed_again(e164), (shop, text)
                compared += 1
    assert compared > 1000
