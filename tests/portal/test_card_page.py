"""The page a customer opens by scanning their own card."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from prepaid.customers import services as customers
from prepaid.customers.models import Card
from prepaid.sales import services as sales
from prepaid.staff.models import Business
from tests.factories import key, make_customer, method

pytestmark = pytest.mark.django_db


def test_the_card_page_shows_balance_history_and_the_qr_without_a_login(client, actor):
    customer = make_customer("王芳", balance="20.00", bonus="2.00", actor=actor)
    sales.cash_out(customer, 500, method=method(), key=key(), actor=actor, reason="moving away")
    card = Card.objects.get(customer=customer)

    response = client.get(f"/c/{card.token}")

    page = response.content.decode()
    assert response.status_code == 200
    assert "王芳" in page and "$15.00" in page and "$2.00" in page
    assert customer.code in page and "<svg" in page
    assert response["Referrer-Policy"] == "same-origin"  # the token stays on the site
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_a_replaced_card_shows_that_it_is_no_longer_valid(client, actor, owner):
    customer = make_customer(balance="5.00", actor=actor)
    old = Card.objects.get(customer=customer)
    customers.issue_card(customer, replace=True, by=owner)

    response = client.get(f"/c/{old.token}")

    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    assert "$5.00" not in response.content.decode()


def test_an_unknown_token_is_a_404_not_an_error(client, business):
    assert client.get("/c/nope").status_code == 404
    assert client.get("/c/" + "x" * 200).status_code == 404


def test_the_card_page_speaks_chinese(client, actor):
    customer = make_customer(balance="5.00", actor=actor)
    card = Card.objects.get(customer=customer)
    page = client.get(f"/c/{card.token}", headers={"accept-language": "zh-hans"}).content.decode()
    assert '<html lang="zh-hans">' in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Mar 7, 2026"), ("zh-hans", "2026年3月7日"), ("nl", "7 mrt 2026")],
)
def test_history_dates_are_written_the_readers_way_in_the_shops_time_zone(
    client, actor, language, expected
):
    # 23:30 UTC on the 6th is already the 7th in Manila, where this shop is.
    Business.objects.filter(pk=1).update(time_zone="Asia/Manila", region="PH")
    at = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)
    customer = make_customer(balance="5.00", actor=replace(actor, at=at))
    card = Card.objects.get(customer=customer)

    page = client.get(f"/c/{card.token}", headers={"accept-language": language}).content.decode()

    assert expected in page
