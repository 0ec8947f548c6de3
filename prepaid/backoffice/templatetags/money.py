from __future__ import annotations

from django import template
from django.utils.translation import get_language

from prepaid.lib.money import format_money
from prepaid.staff.models import Business

register = template.Library()


@register.filter
def money(amount_minor: int | None, business: Business | None) -> str:
    """Minor units as the business's money, in the reader's language: ``x|money:business``."""
    if amount_minor is None or business is None:
        return ""
    language = get_language() or "en"
    return format_money(int(amount_minor), business.currency, language, region=business.region)
