"""A refund (cash out) and closing the account at the counter, with a manager at the
cashier's side: the manager's PIN on the same screen (issue #13)."""

from __future__ import annotations

import re

import pytest

from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch, PaymentMethod
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent, PinLockout
from tests.counter.conftest import PINS

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    html = page.content.decode()
    return re.search(r'id="refund-form".*?name="key" value="([^"]+)"', html, re.S)[1]


def _form(till, maria, **values):
    panel = till.get(f"/counter/c/{maria.code}/")
    return {"key": _key(panel), "reason": "Moving away", **values}


@pytest.fixture
def cash(db):
    return PaymentMethod.objects.get(code="cash")


def test_the_managers_pin_refunds_everything_and_closes(till, maria, manager, cash):
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Refund or close, with a manager" in panel and 'value="10.00"' in panel
    form = _form(till, maria, amount="10.00", method=cash.pk, close="on")
    form.update(manager=manager.pk, pin=PINS[manager.name])

    done = till.post(f"/counter/c/{maria.code}/refund/", form)

    refund = Batch.objects.get(code=Batch.Code.REFUND)
    assert done.status_code == 302 and done["Location"] == f"/counter/receipt/{refund.pk}/"
    assert refund.staff == manager and sales.balances(maria).paid == 0
    assert Customer.objects.get(pk=maria.pk).status == "closed"
    asked = AuditEvent.objects.get(action="refund.approved_at_counter")
    assert asked.staff == manager and asked.after["asked_by"] == "Carlos"
    assert verify() == []


def test_a_wrong_pin_refunds_nothing_and_counts_against_the_manager(till, maria, manager, cash):
    form = _form(till, maria, amount="5.00", method=cash.pk, manager=manager.pk, pin="0000")
    page = till.post(f"/counter/c/{maria.code}/refund/", form)
    assert page.status_code == 200 and "Wrong PIN." in page.content.decode()
    assert not Batch.objects.filter(code=Batch.Code.REFUND).exists()
    assert PinLockout.objects.get(staff=manager).failures == 1


def test_the_cashier_is_not_offered_as_their_own_approver(till, maria, cashier_a, cash):
    form = _form(till, maria, amount="5.00", method=cash.pk)
    form.update(manager=cashier_a.pk, pin=PINS[cashier_a.name])
    page = till.post(f"/counter/c/{maria.code}/refund/", form)
    assert page.status_code == 200 and not Batch.objects.filter(code=Batch.Code.REFUND).exists()
    assert "Select a valid choice" in page.content.decode()


def test_a_double_tap_refunds_once(till, maria, manager, cash):
    form = _form(till, maria, amount="4.00", method=cash.pk, manager=manager.pk)
    form["pin"] = PINS[manager.name]
    till.post(f"/counter/c/{maria.code}/refund/", form)
    till.post(f"/counter/c/{maria.code}/refund/", form)
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1
    assert sales.balances(maria).paid == 600
    assert AuditEvent.objects.filter(action="refund.approved_at_counter").count() == 1
