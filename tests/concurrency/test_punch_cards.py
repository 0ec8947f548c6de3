"""Eight counters redeem the last uses of one punch card at once: the card's counts are
a ledger account floored at zero, so exactly as many redemptions succeed as there are
uses, the others are refused with ``nothing_to_redeem``, and the store's deferred money
ends at zero (``verify``)."""

from __future__ import annotations

import threading

import pytest

from prepaid.operations.envelope import run
from prepaid.operations.programs import Redeem
from prepaid.programs import services as programs
from prepaid.staff.refusals import Refusal
from tests.concurrency.test_debits import run_workers
from tests.conftest import assert_ledger_sound
from tests.factories import make_actor, make_business, make_customer, make_product, method

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_counters_redeem_three_uses_exactly_three_times():
    make_business(currency="PHP", region="PH")
    actor = make_actor()
    customer = make_customer()
    water = make_product("Refill", price="10")
    package = programs.create_package(
        name="3 refills", product=water, count=3, price_minor=2500, by=None
    )
    programs.sell_package(customer, package, method=method(), key="card", actor=actor)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        operation = Redeem(customer=customer.code, product=str(water.pk), quantity=1)
        try:
            run(operation, actor=actor, scope="test", key=f"use-{worker}")
            outcome = "redeemed"
        except Refusal as refusal:
            outcome = refusal.code
        with lock:
            outcomes.append(outcome)

    run_workers(8, work)
    assert sorted(outcomes) == ["nothing_to_redeem"] * 5 + ["redeemed"] * 3
    assert programs.holdings(customer) == []
    assert_ledger_sound()
