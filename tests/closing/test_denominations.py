"""The notes and coins a drawer is counted in."""

from __future__ import annotations

import pytest

from prepaid.closing import denominations


@pytest.mark.parametrize("currency", sorted(denominations.TABLE))
def test_each_value_is_listed_once_largest_first(currency):
    values = [kind.value_minor for kind in denominations.of(currency)]

    assert values == sorted(set(values), reverse=True)
    assert all(value > 0 for value in values)
    kinds = denominations.of(currency)
    first_coin = next(n for n, kind in enumerate(kinds) if kind.coin)
    assert not any(kind.coin for kind in kinds[:first_coin])  # notes, then coins
    assert all(kind.coin for kind in kinds[first_coin:])


def test_the_peso_has_its_notes_and_coins():
    kinds = denominations.of("PHP")

    assert [k.value_minor for k in kinds if not k.coin] == [100000, 50000, 20000, 10000, 5000, 2000]
    assert [k.value_minor for k in kinds if k.coin] == [1000, 500, 100, 25, 5, 1]


def test_a_currency_not_listed_is_counted_as_a_total():
    assert denominations.of("JPY") == ()


def test_the_counts_add_up():
    assert denominations.total({2000: 4, 500: 1, 100: 2, 25: 0}) == 8700
    assert denominations.total({}) == 0
