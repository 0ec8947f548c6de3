from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

from prepaid.ledger.models import Batch
from prepaid.lib.money import format_money, format_price
from prepaid.staff.models import Business

register = template.Library()


@register.filter
def money(amount_minor: int | None, business: Business | None) -> str:
    """Minor units as the business's money, in the reader's language: ``x|money:business``."""
    if amount_minor is None or business is None:
        return ""
    language = get_language() or "en"
    return format_money(int(amount_minor), business.currency, language, region=business.region)


@register.filter
def price(unit_price: Decimal | None, business: Business | None) -> str:
    """A unit price with the decimals it needs: ``product.unit_price|price:business``."""
    if unit_price is None or business is None:
        return ""
    language = get_language() or "en"
    return format_price(unit_price, business.currency, language, region=business.region)


@register.filter
def quantity(value: Decimal | None, raw: str = "") -> str:
    """A quantity without trailing zeros or an exponent: "10", "2.5" (Dutch "2,5").
    ``quantity:"raw"`` gives the unlocalized digits, for a form's hidden value."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text if raw else number_format(Decimal(text))


@register.filter
def percent_bp(basis_points: int | None) -> str:
    """Hundredths of a percent as a percentage in the reader's language: 250 → "2.5%"."""
    if basis_points is None:
        return ""
    value = format(Decimal(int(basis_points)).scaleb(-2).normalize(), "f")
    return f"{number_format(Decimal(value))}%"


@register.filter
def transaction_kind(code: str) -> str:
    """A transaction's code as the reader reads it: "top_up" → "Top-up"."""
    try:
        return str(Batch.Code(code).label)
    except ValueError:
        return code
