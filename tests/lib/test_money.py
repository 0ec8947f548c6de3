from __future__ import annotations

from decimal import Decimal

import pytest

from prepaid.lib.codes import CODE_ALPHABET, new_code, new_token, normalize_code
from prepaid.lib.money import MoneyError, exponent, format_money, from_minor, price_line, to_minor


@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("PHP", 2), ("JPY", 0), ("KWD", 3)])
def test_the_minor_unit_comes_from_iso_4217(currency, places):
    assert exponent(currency) == places


def test_amounts_convert_exactly_both_ways():
    assert to_minor("12.50", "USD") == 1250
    assert to_minor("1000", "JPY") == 1000
    assert to_minor("1.005", "KWD") == 1005
    assert from_minor(1250, "USD") == Decimal("12.50")
    assert from_minor(7, "KWD") == Decimal("0.007")


@pytest.mark.parametrize("text", ["12.345", "abc", "NaN", "Infinity", ""])
def test_it_refuses_amounts_that_are_not_exact_money(text):
    with pytest.raises(MoneyError):
        to_minor(text, "USD")


def test_an_unknown_currency_is_refused():
    with pytest.raises(MoneyError):
        exponent("XYZ")


def test_a_line_is_priced_half_up_to_the_minor_unit():
    assert price_line(Decimal("0.3490"), Decimal("2.5"), "USD") == 87  # 0.8725
    assert price_line(Decimal("0.25"), Decimal("0.5"), "USD") == 13  # 0.125 → 0.13
    assert price_line(Decimal("33.5"), Decimal("3"), "JPY") == 101  # 100.5 → 101


def test_money_is_formatted_for_the_reader():
    assert format_money(123450, "EUR", "nl") == "€\xa01.234,50"
    assert format_money(500, "USD", "en") == "$5.00"
    assert format_money(500, "USD", "not-a-locale") == "$5.00"


def test_codes_are_readable_and_tokens_long():
    code = new_code()
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(CODE_ALPHABET)
    assert normalize_code(code.lower().replace("-", " ")) == code
    assert normalize_code("O0I1-LLLL") is None
    assert len(new_token()) >= 22  # 144 bits in URL-safe base64


def test_the_symbol_is_the_shops_own_and_the_digits_the_readers():
    assert format_money(1250, "PHP", "zh-hans", region="PH") == "₱12.50"
    assert format_money(123450, "PHP", "nl", region="PH") == "₱\xa01.234,50"
    assert format_money(1250, "CNY", "en", region="CN") == "¥12.50"
    assert format_money(1250, "PHP", "zh-hans") == "PHP12.50"


def test_a_unit_price_shows_the_decimals_it_needs_with_the_shops_symbol():
    from prepaid.lib.money import format_price

    assert format_price(Decimal("0.3500"), "PHP", "en", region="PH") == "₱0.35"
    assert format_price(Decimal("0.3490"), "PHP", "zh-hans", region="PH") == "₱0.349"
    assert format_price(Decimal("50"), "USD", "en", region="US") == "$50.00"
    assert format_price(Decimal("0.349"), "EUR", "nl", region="NL") == "€\xa00,349"
