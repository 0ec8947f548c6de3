"""The customer stops a lost card from their own page (issue #13): every card of theirs
at once, the balance kept; someone who found the card cannot do it without the last
four digits of the phone or the e-mail address, and has few tries."""

from __future__ import annotations

import pytest

from prepaid.customers import services as customers
from prepaid.customers.models import Card
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent
from tests.factories import make_business, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(business):
    person = make_customer("Maria Santos", balance="50.00")
    customers.update(
        person, customers.Profile(phone="+12125550123", email="maria@example.com"), by=None
    )
    customers.issue_card(person, by=None)  # a second card: both stop
    return person


def test_the_last_four_digits_stop_every_card_and_keep_the_balance(client, maria):
    page = f"/c/{maria.cards.first().token}"
    assert "Lost your card?" in client.get(page).content.decode()
    form = client.get(f"{page}/lost").content.decode()
    assert "last 4 digits of your phone number" in form

    done = client.post(f"{page}/lost", {"answer": "0123"})

    assert "Your cards are stopped" in done.content.decode()
    assert not Card.objects.filter(customer=maria, revoked_at__isnull=True).exists()
    assert sales.balances(maria).paid == 5000
    assert client.get(page).status_code == 404  # the page is gone with the card
    event = AuditEvent.objects.get(action="card.reported_lost")
    assert len(event.after["cards"]) == 2 and event.staff is None


def test_the_email_address_does_it_too(client, maria):
    page = f"/c/{maria.cards.first().token}"
    done = client.post(f"{page}/lost", {"answer": " Maria@Example.com "})
    assert "Your cards are stopped" in done.content.decode()


def test_a_finder_guessing_gets_few_tries(client, maria):
    page = f"/c/{maria.cards.first().token}"
    for guess in ("1111", "2222", "3333"):
        wrong = client.post(f"{page}/lost", {"answer": guess})
        assert "not what the shop has" in wrong.content.decode()
    waits = client.post(f"{page}/lost", {"answer": "0123"})  # even the right one waits now
    assert "Too many failed attempts" in waits.content.decode()
    assert Card.objects.filter(customer=maria, revoked_at__isnull=True).count() == 2


def test_without_phone_or_email_the_page_sends_them_to_the_counter(client, business):
    person = make_customer("Nobody Known")
    page = f"/c/{person.cards.get().token}"
    answer = client.post(f"{page}/lost", {"answer": "0000"}).content.decode()
    assert "ask at the counter" in answer and "Stop my cards" not in answer
    assert Card.objects.get(customer=person).revoked_at is None


def test_an_unknown_card_finds_nothing(client, business):
    make_business()
    assert client.get("/c/" + "x" * 24 + "/lost").status_code == 404
