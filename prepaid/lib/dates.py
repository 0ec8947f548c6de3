"""Dates and times as a reader expects them, with Babel's CLDR data.

The reader's language decides the words and the order; the shop's region refines it
where CLDR knows the pair (English in a Dutch shop reads "24 Nov 2026", in an American
one "Nov 24, 2026"). Dates use the medium form, which is never ambiguous: the short one
("11/24/26") reads differently on either side of the Atlantic. Times are short (no
seconds), 12- or 24-hour as the locale has it.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_time


def reader(language: str, region: str | None = None) -> Locale:
    """The CLDR locale for a Django language code in the shop's region, else the
    language alone, else English."""
    base = language.replace("-", "_")
    for name in ([f"{base}_{region}"] if region else []) + [base, "en"]:
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    raise AssertionError("Babel always knows English")  # pragma: no cover


def format_day(value: date, language: str = "en", *, region: str | None = None) -> str:
    """A calendar date: "Nov 24, 2026", "2026年11月24日", "24 nov 2026"."""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium", locale=reader(language, region))


def format_when(value: datetime, language: str = "en", *, region: str | None = None) -> str:
    """A moment, in the time zone it carries: "Nov 24, 2026, 2:05 PM",
    "2026年11月24日 14:05", "24 nov 2026, 14:05"."""
    locale = reader(language, region)
    day = format_date(value.date(), "medium", locale=locale)
    time = format_time(value, "short", tzinfo=value.tzinfo, locale=locale)
    pattern = str(locale.datetime_formats["medium"])
    return pattern.replace("{1}", day).replace("{0}", time)


def format_recent(
    value: datetime, today: date, language: str = "en", *, region: str | None = None
) -> str:
    """A moment in a short list of recent ones: the time alone when it is ``today`` (in
    the time zone the value carries), else the date: "2:05 PM", "Nov 23, 2026"."""
    if value.date() == today:
        return format_time(value, "short", tzinfo=value.tzinfo, locale=reader(language, region))
    return format_day(value, language, region=region)
