"""Dates the Babel way (prepaid.lib.dates), in the shop's time zone and the reader's
language: ``{{ batch.created_at|when:business }}``, ``{{ customer.birthday|day:business }}``,
``{{ batch.created_at|recent:business }}`` (today's as a time only)."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from prepaid.lib.dates import format_day, format_recent, format_when
from prepaid.staff.models import Business

register = template.Library()


def _region(business: Business | None) -> str | None:
    return business.region if business is not None else None


@register.filter
def when(value: datetime | None, business: Business | None = None) -> str:
    """A moment in the current (the shop's) time zone: "Nov 24, 2026, 2:05 PM"."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_when(value, get_language() or "en", region=_region(business))


@register.filter
def day(value: date | datetime | None, business: Business | None = None) -> str:
    """A calendar date; a moment is first put in the shop's time zone: "Nov 24, 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return format_day(value, get_language() or "en", region=_region(business))


@register.filter
def recent(value: datetime | None, business: Business | None = None) -> str:
    """For short lists of the latest moments: today's as a time, older ones as a date."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    today = timezone.localdate()
    return format_recent(value, today, get_language() or "en", region=_region(business))
