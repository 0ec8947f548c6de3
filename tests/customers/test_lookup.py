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


def test_four_or_more_digits_of_a_phone_number(people):
    assert names("4567") == ["Jan de Vries", "José Santos", "Maria Santos"]
    assert names("0917 123") == ["José Santos"]  # national format, typed with a space
    assert names("+63 918") == ["Maria Santos", "Maria Santos"]
    assert names("456") == []  # too few digits to mean anything


def test_email_and_email_fragments(people):
    assert names("jose@example.com") == ["José Santos"]
    assert names("@example.org") == ["Maria Santos"]
    assert names("jan_devries@") == ["Jan de Vries"]  # an underscore is not a wildcard
    assert names("n_d@") == []


def test_part_of_an_address_finds_only_addresses_holding_all_of_it(business, owner, monkeypatch):
    for name, email in [
        ("Ana Reyes", "ana.reyes87@gmail.com"),
        ("Bea Reyes", "bea.reyes87@yahoo.com"),
        ("Cora Reyes", "cora.reyes87@ziggo.nl"),
    ]:
        customers.register(customers.Profile(name=name, email=email), by=owner)
    # The index is asked about the end of the local part ("reyes87@"), which all three
    # share; the whole text decides, before the cap on candidates.
    monkeypatch.setattr(lookup, "CANDIDATES", 1)
    assert names("reyes87@zig") == ["Cora Reyes"]
    assert names("ana.reyes87@") == ["Ana Reyes"]
    assert names("a.reyes87@gm") == ["Ana Reyes"]
    assert names("87@yah") == ["Bea Reyes"]  # too little before the "@": the whole text
    assert names("reyes87@hotmail") == []


def test_two_maria_santos_can_be_told_apart(people):
    first, second = lookup.search("maria")
    assert first.code != second.code
    assert {first.phone[-4:], second.phone[-4:]} == {"0000", "4567"}


def test_nothing_found_is_an_empty_list_not_an_error(people):
    assert names("zzzz") == []
    assert names("   ") == []
    assert names("%") == []
