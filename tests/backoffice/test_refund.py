"""A refund (cash out) from the back office (issue #13: it was in the API only, so a
customer with money left could not be closed from any screen)."""

from __future__ import annotations

import re

import pytest

from prepaid.customers import services as customers
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Batch
from prepaid.ledger.verify import verify
from prepaid.operations.models import Approval
from prepaid.sales import services as sales
from tests.factories import key, make_staff, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(owner, actor):
    person = customers.register(customers.Profile(name="Maria Santos"), by=owner)
    ledger.open_accounts(person, unit="USD")
    sales.top_up(person, 20000, method=method(), bonus_minor=2000, key=key(), actor=actor)
    return person


def _refund_key(page) -> str:
    html = page.content.decode()
    return re.search(r'action="/customers/[^"]+/refund/".*?name="key" value="([^"]+)"', html, re.S)[
        1
    ]


def test_the_owner_refunds_part_of_the_balance(client, owner, maria):
    client.force_login(owner.user)
    page = client.get(f"/customers/{maria.code}/")
    assert "Refund (cash out)" in page.content.decode()
    assert 'name="amount" inputmode="decimal" required value="200.00"' in page.content.decode()
    client.cookies["django_language"] = "nl"
    dutch = client.get(f"/customers/{maria.code}/").content.decode()
    assert '<option value="cash">Contant</option>' in dutch  # the method in the reader's words
    client.cookies["django_language"] = "en"
    form = {"key": _refund_key(page), "amount": "40", "method": "cash", "reason": "Moving"}
    done = client.post(f"/customers/{maria.code}/refund/", form, follow=True)
    assert "Refunded $40.00." in done.content.decode()
    assert sales.balances(maria).paid == 16000
    client.post(f"/customers/{maria.code}/refund/", form, follow=True)  # a double tap: once
    assert sales.balances(maria).paid == 16000
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1 and verify() == []


def test_a_refund_of_everything_forfeits_the_bonus_then_the_account_closes(client, owner, maria):
    client.force_login(owner.user)
    page = client.get(f"/customers/{maria.code}/")
    form = {"key": _refund_key(page), "amount": "200.00", "method": "cash", "reason": "Leaving"}
    client.post(f"/customers/{maria.code}/refund/", form)
    assert sales.balances(maria).paid == 0 and sales.balances(maria).bonus == 0
    closed = client.post(f"/customers/{maria.code}/close/", follow=True)
    assert "The account is closed." in closed.content.decode()


def test_refusals_are_messages_and_move_nothing(client, owner, maria):
    client.force_login(owner.user)
    for form, words in (
        ({"amount": "900", "method": "cash", "reason": "x"}, "short"),
        ({"amount": "10", "method": "cash", "reason": ""}, "Give a reason"),
        ({"amount": "ten", "method": "cash", "reason": "x"}, "Enter a number"),
        ({"amount": "10.005", "method": "cash", "reason": "x"}, "decimals"),
        ({"amount": "10", "method": "gold", "reason": "x"}, "payment method"),
    ):
        page = client.get(f"/customers/{maria.code}/")  # each form drawn afresh, its key
        answer = client.post(
            f"/customers/{maria.code}/refund/", {"key": _refund_key(page), **form}, follow=True
        )
        assert words in answer.content.decode(), form
    assert sales.balances(maria).paid == 20000


def test_a_managers_large_refund_waits_for_a_second_person(client, manager, maria):
    client.force_login(manager.user)
    page = client.get(f"/customers/{maria.code}/")
    form = {"key": _refund_key(page), "amount": "150", "method": "cash", "reason": "Leaving"}
    waits = client.post(f"/customers/{maria.code}/refund/", form, follow=True)
    assert "waits for the owner or another manager" in waits.content.decode()
    assert sales.balances(maria).paid == 20000
    assert Approval.objects.get().status == "pending"


def test_a_cashier_may_not_refund(client, maria):
    cashier = make_staff("Cora", password="a long enough password")
    client.force_login(cashier.user)
    assert "Refund (cash out)" not in client.get(f"/customers/{maria.code}/").content.decode()
    form = {"key": "k", "amount": "10", "method": "cash", "reason": "x"}
    assert client.post(f"/customers/{maria.code}/refund/", form).status_code == 403
