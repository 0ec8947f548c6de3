"""The customer's own page: the whole history, a page at a time, and a month's
statement to download (issue #13)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from prepaid.sales import services as sales
from tests.factories import key, make_actor, make_customer, method

pytestmark = pytest.mark.django_db


def _top_ups(person, count: int, *, actor) -> None:
    for _ in range(count):
        sales.top_up(person, 100, method=method(), key=key(), actor=actor)


def test_the_history_goes_back_a_page_at_a_time(client, business):
    actor = make_actor()
    person = make_customer("Maria Santos", actor=actor)
    _top_ups(person, 45, actor=actor)
    page = f"/c/{person.cards.get().token}"
    first = client.get(page).content.decode()
    assert first.count("<tr>") == 20 and "?page=2#history" in first and "Newer" not in first
    third = client.get(page, {"page": 3}).content.decode()
    assert third.count("<tr>") == 5 and "?page=2#history" in third and "Older" not in third
    assert client.get(page, {"page": "x"}).status_code == 200
    assert client.get(page, {"page": "10" * 20}).status_code == 200  # absurd: no 500


def test_a_months_statement_has_the_balances_before_during_and_after(client, business):
    actor = make_actor()
    person = make_customer("Maria Santos", actor=actor)
    utc = ZoneInfo("UTC")
    for day, amount in ((datetime(2026, 10, 30, tzinfo=utc), 5000), (None, 2500)):
        when = day or datetime(2026, 11, 3, 9, 30, tzinfo=utc)
        with mock.patch("django.utils.timezone.now", return_value=when):
            sales.top_up(person, amount, method=method(), bonus_minor=500, key=key(), actor=actor)
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 1, tzinfo=utc)):
        sales.top_up(person, 1000, method=method(), key=key(), actor=actor)
    page = client.get(f"/c/{person.cards.get().token}").content.decode()
    assert "November 2026" in page and "October 2026" in page and "December 2026" in page
    client.cookies["django_language"] = "zh-hans"
    assert ">2026年11月<" in client.get(f"/c/{person.cards.get().token}").content.decode()
    client.cookies["django_language"] = "en"

    answer = client.get(f"/c/{person.cards.get().token}/statement-2026-11.csv")

    assert answer["Content-Type"] == "text/csv"
    assert answer["Content-Disposition"].endswith(f'statement-{person.code}-2026-11.csv"')
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Date", "Transaction", "Paid", "Bonus", "Paid balance", "Bonus balance"]
    assert rows[1] == ["2026-11-01", "Opening balance", "", "", "50.00", "5.00"]
    assert rows[2] == ["2026-11-03 09:30", "Top-up", "25.00", "5.00", "75.00", "10.00"]
    assert rows[3] == ["2026-11-30", "Closing balance", "", "", "75.00", "10.00"]
    assert len(rows) == 4


def test_a_statement_of_nonsense_or_of_a_stopped_card_is_not_found(client, business):
    person = make_customer("Maria Santos")
    token = person.cards.get().token
    assert client.get(f"/c/{token}/statement-2026-13.csv").status_code == 404
    assert client.get(f"/c/{token}/statement-1999-01.csv").status_code == 404
    assert client.get("/c/" + "x" * 24 + "/statement-2026-11.csv").status_code == 404
    person.cards.update(revoked_at=datetime.now(ZoneInfo("UTC")) - timedelta(seconds=1))
    assert client.get(f"/c/{token}/statement-2026-11.csv").status_code == 404


def test_the_page_installs_on_a_phones_home_screen(client, business):
    person = make_customer("Maria Santos")
    token = person.cards.get().token
    page = client.get(f"/c/{token}").content.decode()
    assert f'<link rel="manifest" href="/c/{token}/manifest.webmanifest">' in page
    manifest = client.get(f"/c/{token}/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["start_url"] == f"/c/{token}" and data["display"] == "standalone"
    assert data["name"] == "Agua Pura" and data["icons"][0]["type"] == "image/svg+xml"
    assert client.get("/c/" + "x" * 24 + "/manifest.webmanifest").status_code == 404


def test_a_privacy_notice_with_the_contact_details_masked(client, business):
    from prepaid.customers import services as customers
    from prepaid.staff.models import Business

    person = make_customer("Maria Santos")
    customers.update(
        person, customers.Profile(phone="+12125550123", email="maria@example.com"), by=None
    )
    page = client.get(f"/c/{person.cards.get().token}").content.decode()
    assert "•••• 0123" in page and "m•••@example.com" in page
    assert "maria@example.com" not in page and "5550123" not in page
    assert "stored encrypted" in page and "erased once your balance is zero" in page

    Business.objects.update(privacy_notice="Ask Ana at the till about your data.")
    page = client.get(f"/c/{person.cards.get().token}").content.decode()
    assert "Ask Ana at the till about your data." in page and "stored encrypted" not in page
