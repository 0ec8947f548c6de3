"""A cashier's undo of a large top-up at the counter waits for a manager's approval,
with a clear message; approved in the back office, it is undone as the cashier's."""

from __future__ import annotations

import re

import pytest

from prepaid.ledger.models import Batch
from prepaid.operations.envelope import run
from prepaid.operations.models import Approval
from prepaid.operations.money import TopUp
from prepaid.sales import services as sales
from tests.backoffice.test_approvals import key_in, logged_in
from tests.conftest import assert_ledger_sound
from tests.counter.conftest import PINS, at_counter
from tests.factories import make_actor, make_customer

pytestmark = pytest.mark.django_db


def test_a_cashiers_large_undo_at_the_counter_waits_for_a_manager(
    device, with_pins, cashier_a, manager, store_a
):
    customer = make_customer("Ben Cruz")
    made = run(
        TopUp(customer=customer.code, amount_minor=20000, method="cash"),
        actor=make_actor(store_a, cashier_a),
        scope="test",
        key="big",
    )
    till = at_counter(device)
    till.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    receipt = till.get(f"/counter/receipt/{made.batch_id}/").content.decode()
    form_key = re.search(r'name="key" value="([^"]+)"', receipt[receipt.index("undo") :])[1]
    undone = till.post(
        f"/counter/receipt/{made.batch_id}/undo/", {"key": form_key, "reason": "Wrong customer"}
    )
    shown = till.get(undone["Location"]).content.decode()
    assert "Not undone yet: an undo this large needs a manager&#x27;s approval" in shown
    assert sales.balances(customer).paid == 20000
    request = Approval.objects.get()
    assert request.device == device
    page = logged_in(manager).get("/approvals/").content.decode()
    action = f"/approvals/{request.pk}/approve/"
    logged_in(manager).post(action, {"key": key_in(page, action)})
    assert sales.balances(customer).paid == 0
    assert Batch.objects.get(reverses_id=made.batch_id).staff == cashier_a
    assert_ledger_sound()
