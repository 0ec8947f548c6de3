"""Money as integers of the currency's minor unit.

Below forms and schemas every amount is an ``int`` of minor units (cents, fen, yen).
How many decimals a currency has comes from the ISO 4217 data that Babel ships, never
from a hard-coded 2: JPY has none, KWD has three.

Unit prices and quantities are ``Decimal`` (prices up to 4 places, quantities up to 3).
``price_line`` is the one function that turns them into money, rounding half-up.

One ceiling, ``MAX_MINOR``, bounds every amount, balance, credit limit, plan and bonus,
wherever it comes from (the counter, the back office, the API, an imported sheet):
``to_minor`` refuses more with ``AmountTooLarge``, and the ledger refuses a transfer or
a balance beyond it. It is far above any real shop's figures (10 trillion of a currency
with two decimals) and far below the 64-bit integers the totals are kept in, so no sum
of allowed amounts can overflow them (the database also bounds each account's totals
by ``MAX_TOTAL``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
)
from django.utils.translation import get_language
from django.utils.translation import gettext as _

MAX_MINOR = 10**15 - 1
# An account's running totals (all it was ever credited or debited) stay below this:
# a database CHECK. Adding any allowed amount to it stays far below 2**63.
MAX_TOTAL = 4 * 10**18


class MoneyError(ValueError):
    """A text or number that is not a valid amount of money."""


class AmountTooLarge(MoneyError):
    """An amount beyond ``MAX_MINOR`` (either sign)."""


def too_large(currency: str, *, region: str | None = None) -> str:
    """The translated message for an amount beyond the ceiling, naming the ceiling in the
    reader's language (with the shop's ``region``'s symbol)."""
    most = format_money(MAX_MINOR, currency, get_language() or "en", region=region)
    return _("That amount is too large: the most is %(most)s.") % {"most": most}


def is_currency(code: str) -> bool:
    return code in list_currencies()


def exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    if not is_currency(currency):
        raise MoneyError(f"unknown currency {currency!r}")
    return int(get_currency_precision(currency))


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Exact conversion of a major-unit amount to minor units.

    Refuses amounts that carry more decimals than the currency has: "12.345" USD is an
    input error, not something to round silently.
    """
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as error:
        raise MoneyError(f"{amount!r} is not a number") from error
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not a number")
    scaled = value.scaleb(exponent(currency))
    if abs(scaled) > MAX_MINOR:
        raise AmountTooLarge(f"{amount!r} is beyond the ceiling of {MAX_MINOR} minor units")
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount!r} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """The major-unit Decimal for minor units, with exactly the currency's decimals."""
    places = exponent(currency)
    return Decimal(amount_minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_price(
    unit_price: Decimal, currency: str, locale: str = "en", *, region: str | None = None
) -> str:
    """A unit price as money with the decimals it needs: "₱0.35", "₱0.349", "€ 50,00"."""
    reader = _reader(locale)
    value = Decimal(unit_price).normalize()
    text = format_currency(value, currency, locale=reader, decimal_quantization=False)
    return _shop_symbol(text, currency, reader, region)


def format_money(
    amount_minor: int, currency: str, locale: str = "en", *, region: str | None = None
) -> str:
    """Human text for an amount in the reader's locale: "$12.50", "€ 12,50".

    With the shop's ``region``, the currency symbol is the one used there, whatever the
    reader's language: a Manila shop's amounts read "₱12.50" in Chinese too, not
    "PHP12.50"; the digits and separators still follow the reader.
    """
    reader = _reader(locale)
    text = format_currency(from_minor(amount_minor, currency), currency, locale=reader)
    return _shop_symbol(text, currency, reader, region)


def _reader(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _shop_symbol(text: str, currency: str, reader: Locale, region: str | None) -> str:
    if not region:
        return text
    try:
        home = Locale.parse(f"und_{region}")
    except (UnknownLocaleError, ValueError):
        return text
    ours, theirs = get_currency_symbol(currency, reader), get_currency_symbol(currency, home)
    return text.replace(ours, theirs, 1)


def price_line(unit_price: Decimal, quantity: Decimal, currency: str) -> int:
    """Minor units for quantity × unit price, rounded half-up to the minor unit.

    The one place a price becomes money; a sale stores its inputs and this result.
    """
    total = (unit_price * quantity).scaleb(exponent(currency))
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))
