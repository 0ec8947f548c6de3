"""Lookup: the same questions, the same answers, on SQLite and on PostgreSQL.

``make test`` runs this module on both engines; every expectation here is exact, so the
two runs passing is the parity test.
"""

from __future__ import annotations

import pytest

from prepaid.customers import lookup
from prepaid.customers import services as customers
from prepaid.customers.models import Card

pytestmark = pytest.mark.django_db

PEOPLE = [
    ("José Santos", "+639171234567", "jose@example.com"),
    ("Maria Santos", "+639181110000", "maria.s@example.com"),
    ("Maria Santos", "+639189994567", "msantos@example.org"),
    ("王芳", "+8613800138000", ""),
    ("欧阳娜娜", "+8613900139000", "nana@example.cn"),
    ("Jan de Vries", "+31612345678", "jan_devries@example.nl"),
    ("Joy Cruz", "", "joy@example.com"),
]


@pytest.fixture
def people(business, owner):
    return [
        customers.register(customers.Profile(name=name, phone=phone, email=email), by=owner)
        for name, phone, email in PEOPLE
    ]


def names(text: str) -> list[str]:
    return [customer.name for customer in lookup.search(text)]


def test_a_scanned_card_url_token_or_code_resolves_to_its_customer(people):
    maria = people[1]
    card = Card.objects.get(customer=maria)
    assert lookup.resolve(card.url) == maria
    assert lookup.resolve(f"https://other.host/c/{card.token}/") == maria
    assert lookup.resolve(card.token) == maria
    assert lookup.resolve(maria.code) == maria
    assert lookup.resolve(maria.code.lower().replace("-", " ")) == maria
    assert lookup.search(card.url) == [maria]


def test_a_revoked_card_never_resolves_again(people, owner):
    maria = people[1]
    old = Card.objects.get(customer=maria)
    new = customers.issue_card(maria, replace=True, by=owner)
    assert lookup.resolve(old.url) is None
    assert lookup.search(old.token) == []
    assert lookup.resolve(new.url) == maria


def test_names_are_found_without_case_or_accents(people):
    assert names("jose") == ["José Santos"]
    assert names("JOSÉ") == ["José Santos"]
    assert names("santos") == ["José Santos", "Maria Santos", "Maria Santos"]


def test_names_starting_with_the_text_come_first(people):
    assert names("mar") == ["Maria Santos", "Maria Santos"]
    assert names("san")[:3] == ["José Santos", "Maria Santos", "Maria Santos"]
    assert names("jo") == ["José Santos", "Joy Cruz"]


def test_two_character_chinese_names_and_parts_of_longer_ones(people):
    assert names("王芳") == ["王芳"]
    assert names("王") == ["王芳"]
    assert names("阳娜") == ["欧阳娜娜"]
    assert names("娜娜") == ["欧阳娜娜"]


def test_short_latin_text_matches_the_start_of_a_word(people):
    assert names("vr") == ["Jan de Vries"]
    assert names("de") == ["Jan de Vries"]
    assert names("x") == []


def test_the_end_of_a_phone_number(people):
    assert names("4567") == ["José Santos", "Maria Santos"]
    assert names("94567") == ["Maria Santos"]
    assert names("5678") == ["Jan de Vries"]
    assert names("0917 123 4567") == ["José Santos"]  # national format, with spaces
    assert names("+63 917 123 4567") == ["José Santos"]
    assert names("06 1234 5678") == ["Jan de Vries"]
    assert names("456") == []  # too few digits to mean anything


def test_a_tail_starting_with_zeros_is_taken_as_typed(business, owner):
    """Only a whole national number drops its trunk zero: "001234" is the end of a
    number, not "1234" (the benchmark found the difference)."""
    for name, phone in [("Ana", "+639420001234"), ("Ben", "+639171111234")]:
        customers.register(customers.Profile(name=name, phone=phone), by=owner)
    assert names("001234") == ["Ana"]
    assert names("1234") == ["Ana", "Ben"]
    assert names("0942 000 1234") == ["Ana"]
    assert names("0917 111 1234") == ["Ben"]


def test_digits_from_the_middle_of_a_number_find_nobody(people):
    """Phone numbers are sealed; only their last four digits have a (blind) index, so a
    number's beginning finds nothing (docs/customers.md says so)."""
    assert names("0917 123") == []
    assert names("+63 918") == []


def test_an_email_address_or_its_beginning(people):
    assert names("jose@example.com") == ["José Santos"]
    assert names("JOSE@Example.com") == ["José Santos"]
    assert names("jan_devries@") == ["Jan de Vries"]  # an underscore is not a wildcard
    assert names("jan_devries@exa") == ["Jan de Vries"]
    assert names("jan_devries@example.com") == []
    assert names("@example.org") == []  # the domain alone: no index, nobody
    assert names("n_d@") == []


def test_the_beginning_of_an_address_finds_only_addresses_starting_so(business, owner):
    for name, email in [
        ("Ana Reyes", "reyes87@gmail.com"),
        ("Bea Reyes", "reyes87@yahoo.com"),
        ("Cora Reyes", "reyes87@ziggo.nl"),
        ("Dina Reyes", "dina.reyes87@ziggo.nl"),
    ]:
        customers.register(customers.Profile(name=name, email=email), by=owner)
    # The blind index of the part before the "@" finds the first three; each one's
    # opened address decides.
    assert names("reyes87@") == ["Ana Reyes", "Bea Reyes", "Cora Reyes"]
    assert names("reyes87@zig") == ["Cora Reyes"]
    assert names("reyes87@hotmail") == []
    assert names("dina.reyes87@z") == ["Dina Reyes"]


def test_two_maria_santos_can_be_told_apart(people):
    first, second = lookup.search("maria")
    assert first.code != second.code
    assert {first.phone[-4:], second.phone[-4:]} == {"0000", "4567"}


def test_nothing_found_is_an_empty_list_not_an_error(people):
    assert names("zzzz") == []
    assert names("   ") == []
    assert names("%") == []
