"""Dates and times read the way the reader's language and the shop's region write them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from prepaid.lib.dates import format_day, format_recent, format_when, reader

MANILA = datetime(2026, 11, 24, 14, 5, tzinfo=ZoneInfo("Asia/Manila"))


@pytest.mark.parametrize(
    ("language", "region", "expected"),
    [
        ("en", "PH", "Nov 24, 2026, 2:05\u202fPM"),
        ("en", "NL", "24 Nov 2026, 14:05"),  # English in a Dutch shop: day first, 24 hours
        ("zh-hans", "PH", "2026年11月24日 14:05"),
        ("nl", "PH", "24 nov 2026, 14:05"),
        ("nl", "BE", "24 nov 2026, 14:05"),
        ("xx", None, "Nov 24, 2026, 2:05\u202fPM"),  # unknown language: English
    ],
)
def test_a_moment_in_each_language(language, region, expected):
    assert format_when(MANILA, language, region=region) == expected


def test_a_moment_is_shown_in_the_time_zone_it_carries():
    utc = MANILA.astimezone(ZoneInfo("UTC"))
    assert format_when(utc, "nl") == "24 nov 2026, 06:05"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Nov 24, 2026"), ("zh-hans", "2026年11月24日"), ("nl", "24 nov 2026")],
)
def test_a_day_never_in_the_ambiguous_short_form(language, expected):
    assert format_day(date(2026, 11, 24), language, region="PH") == expected
    assert format_day(MANILA, language, region="PH") == expected


def test_a_region_babel_does_not_pair_with_the_language_falls_back_to_the_language():
    assert str(reader("zh-hans", "PH")) == "zh_Hans"
    assert str(reader("en", "NL")) == "en_NL"


def test_a_recent_moment_is_its_time_today_and_its_date_before():
    today = MANILA.date()
    assert format_recent(MANILA, today, "en", region="PH") == "2:05\u202fPM"
    assert format_recent(MANILA, today, "zh-hans", region="PH") == "14:05"
    yesterday = MANILA.replace(day=23)
    assert format_recent(yesterday, today, "nl", region="PH") == "23 nov 2026"
