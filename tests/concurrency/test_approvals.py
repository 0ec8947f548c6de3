"""Four checkers approve the same pending refund at the same moment: the request's row
is locked while it is decided, so the refund runs exactly once; the others are told it
was decided already (``approval_not_pending``), and the ledger is sound. The control
first shows the race without that guard: the others run the refund again, and only the
ledger's unique batch key keeps it from paying out twice (as an error, not an answer)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import IntegrityError

from prepaid.ledger.models import Batch
from prepaid.operations import approvals
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


def approve_at_once() -> tuple[list[str], object]:
    """A manager's pending refund of 200.00, and four checkers approving it at once."""
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
        except IntegrityError:  # only without the guard: the batch key's unique index
            outcome = "integrity_error"
        with lock:
            outcomes.append(outcome)

    run_workers(4, work)
    return outcomes, customer


def unguarded(number: int) -> Approval:
    """The request read without its row lock and whatever its status: no guard."""
    return Approval.objects.select_related("store", "staff", "api_token", "device").get(pk=number)


def test_control_without_the_guard_the_others_crash_into_the_batch_key():
    """Without the lock and the status check, each checker runs the refund again: only
    the batch key's unique index (the last line) stops a second payout, as an error (or
    as the ledger's replay of the first posting)."""
    with mock.patch.object(approvals, "_pending", unguarded):
        outcomes, customer = approve_at_once()
    assert "approval_not_pending" not in outcomes  # no one is told it was decided
    assert set(outcomes) <= {"approved", "integrity_error"}
    assert sales.balances(customer).paid == 30000


def test_four_checkers_approving_at_once_refund_exactly_once():
    outcomes, customer = approve_at_once()
    assert sorted(outcomes) == ["approval_not_pending"] * 3 + ["approved"]
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1
    assert sales.balances(customer).paid == 30000
    assert Approval.objects.get().status == Approval.Status.APPROVED
    assert_ledger_sound()
