"""A sale charged to the wrong customer, moved to the right one in one step (issue #13,
the POS seed's "Remove or Change"): reversed and sold again, both or neither."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from prepaid.ledger.models import Batch
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from tests.counter.test_counter import key_of
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def jose(actor):
    return make_customer("Jose Cruz", balance="10.00", actor=actor)


def _sold(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    sold = till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "4"},
    )
    receipt = till.get(sold["Location"])
    return Batch.objects.filter(code=Batch.Code.SALE).latest("id"), receipt


def test_the_sale_moves_to_the_right_customer(till, maria, jose, water):
    sale, receipt = _sold(till, maria, water)
    assert "Wrong customer?" in receipt.content.decode()
    html = receipt.content.decode()
    move_key = html.split('action="/counter/receipt/')[2].split('name="key" value="')[1][:32]

    moved = till.post(
        f"/counter/receipt/{sale.pk}/move/",
        {"key": move_key, "customer": jose.code.lower(), "reason": "Wrong customer"},
    )

    new_sale = Batch.objects.filter(code=Batch.Code.SALE).latest("id")
    assert moved["Location"] == f"/counter/receipt/{new_sale.pk}/"
    assert new_sale.customer == jose and Batch.objects.get(reverses=sale)
    assert sales.balances(maria).paid == 1000 and sales.balances(jose).paid == 900
    assert new_sale.note.startswith(f"Moved from {maria.code}")
    again = till.post(
        f"/counter/receipt/{sale.pk}/move/",
        {"key": move_key, "customer": jose.code, "reason": "Wrong customer"},
    )
    assert again["Location"] == moved["Location"]  # a double tap moves it once
    assert Batch.objects.filter(code=Batch.Code.SALE, customer=jose).count() == 1
    assert verify() == []


def test_a_customer_who_cannot_pay_leaves_everything_as_it_was(till, maria, water, actor):
    poor = make_customer("Poor Pete", actor=actor)
    sale, receipt = _sold(till, maria, water)
    html = receipt.content.decode()
    move_key = html.split('action="/counter/receipt/')[2].split('name="key" value="')[1][:32]
    refused = till.post(
        f"/counter/receipt/{sale.pk}/move/",
        {"key": move_key, "customer": poor.code, "reason": "Wrong customer"},
        follow=True,
    )
    assert "short" in refused.content.decode()
    assert not Batch.objects.filter(reverses=sale).exists()
    assert sales.balances(maria).paid == 900 and verify() == []


def test_after_the_undo_window_a_cashier_cannot_move_it(till, maria, jose, water):
    sale, receipt = _sold(till, maria, water)
    html = receipt.content.decode()
    move_key = html.split('action="/counter/receipt/')[2].split('name="key" value="')[1][:32]
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("prepaid.sales.services.timezone.now", return_value=later):
        refused = till.post(
            f"/counter/receipt/{sale.pk}/move/",
            {"key": move_key, "customer": jose.code, "reason": "Wrong customer"},
            follow=True,
        )
    assert "5 minutes" in refused.content.decode()
    assert sales.balances(jose).paid == 1000


def test_moving_to_the_same_customer_or_nobody_is_refused(till, maria, water):
    sale, receipt = _sold(till, maria, water)
    html = receipt.content.decode()
    move_key = html.split('action="/counter/receipt/')[2].split('name="key" value="')[1][:32]
    same = till.post(
        f"/counter/receipt/{sale.pk}/move/",
        {"key": move_key, "customer": maria.code, "reason": "x"},
        follow=True,
    )
    assert "already this customer" in same.content.decode()
    nobody = till.post(
        f"/counter/receipt/{sale.pk}/move/",
        {"key": move_key + "2", "customer": "nobody", "reason": "x"},
        follow=True,
    )
    assert "Scan the right customer" in nobody.content.decode()
    assert not Batch.objects.filter(reverses=sale).exists()
