"""Four checkers approve the same pending refund at the same moment: the request's row
is locked while it is decided, so the refund runs exactly once; the others are told it
was decided already (``approval_not_pending``), and the ledger is sound."""

from __future__ import annotations

import threading

import pytest

from prepaid.ledger.models import Batch
from prepaid.operations.approvals import Approve
from prepaid.operations.envelope import run
from prepaid.operations.models import Approval
from prepaid.operations.money import Refund
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal
from tests.concurrency.test_debits import run_workers
from tests.conftest import assert_ledger_sound
from tests.factories import make_actor, make_business, make_customer, make_staff, make_store

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_checkers_approving_at_once_refund_exactly_once():
    make_business(currency="PHP", region="PH")
    store = make_store()
    owner = make_staff("Olivia", role="owner", store=store)
    customer = make_customer(balance="500.00", actor=make_actor(store, owner))
    maker = make_actor(store, make_staff("Mona", role="manager", store=store))
    asked = run(
        Refund(customer=customer.code, amount_minor=20000, method="cash", reason="Moving"),
        actor=maker,
        scope="office:mona",
        key="refund",
    )
    assert asked.status == 202
    checkers = [make_actor(store, owner)] + [
        make_actor(store, make_staff(f"Manager {n}", role="manager", store=store)) for n in range(3)
    ]
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            run(
                Approve(approval=asked.data["id"]),
                actor=checkers[worker],
                scope=f"office:{worker}",
                key="approve",
            )
            outcome = "approved"
        except Refusal as refusal:
            outcome = refusal.code
        with lock:
            outcomes.append(outcome)

    run_workers(4, work)
    assert sorted(outcomes) == ["approval_not_pending"] * 3 + ["approved"]
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1
    assert sales.balances(customer).paid == 30000
    assert Approval.objects.get().status == Approval.Status.APPROVED
    assert_ledger_sound()
