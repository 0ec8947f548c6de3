from __future__ import annotations

from django import template
from django.utils.translation import get_language

from prepaid.lib.money import format_money

register = template.Library()


@register.filter
def money(amount_minor: int | None, currency: str) -> str:
    """Minor units as money of ``currency``, in the reader's language."""
    if amount_minor is None or not currency:
        return ""
    return format_money(int(amount_minor), currency, get_language() or "en")
