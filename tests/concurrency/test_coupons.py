"""Twenty counters take the same single-use coupon at once: its row is locked in each
sale's transaction before its uses are counted, so exactly one sale takes it and the
others are refused (``coupon_not_valid``, ``used``) with nothing posted.

The control removes the lock and holds every worker at a barrier right after it has
counted the uses (the gap a busy server leaves between reading and writing): all of
them see the coupon unused and take it. On SQLite one writer runs at a time, so there
is no race to show (the workers would wait at the barrier for the writer that holds the
database): the control runs on PostgreSQL only.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection

from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon, CouponUse
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch
from prepaid.operations.envelope import run
from prepaid.operations.money import Sale
from prepaid.staff.refusals import Refusal
from tests.concurrency.test_debits import run_workers
from tests.conftest import assert_ledger_sound
from tests.factories import make_actor, make_business, make_customer, make_product

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 20


def twenty_sales_with_one_coupon() -> list[str]:
    make_business(currency="PHP", region="PH")
    actor = make_actor()
    customers = [make_customer(f"Customer {n}", balance="10.00", actor=actor) for n in range(4)]
    water = make_product("Refill", price="1.00", unit="piece")
    # The store's revenue account opened before the start line: the first sale would
    # open it, and the others would wait for that (uncommitted) row, not race.
    ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit="PHP")
    (coupon,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, 50), by=None)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        customer = customers[worker % len(customers)]
        operation = Sale(customer=customer.code, lines=((str(water.pk), "2"),), coupon=coupon.code)
        try:
            run(operation, actor=actor, scope="test", key=f"sale-{worker}")
            outcome = "sold"
        except Refusal as refusal:
            outcome = f"{refusal.code}:{refusal.params.get('reason')}"
        with lock:
            outcomes.append(outcome)

    run_workers(WORKERS, work)
    return outcomes


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_control_without_the_lock_many_sales_take_the_same_coupon():
    counted = threading.Barrier(WORKERS, timeout=60)
    real_uses_of = coupons.uses_of

    def unlocked(code: str) -> Coupon | None:
        return Coupon.objects.select_related("product").filter(code=code).first()

    def uses_then_wait(coupon, customer=None):
        found = real_uses_of(coupon, customer)
        counted.wait()  # everyone has read the uses before anyone writes one
        return found

    with (
        mock.patch.object(coupons, "locked", unlocked),
        mock.patch.object(coupons, "uses_of", uses_then_wait),
    ):
        outcomes = twenty_sales_with_one_coupon()
    assert outcomes.count("sold") > 1, "one sale took it without the lock: no race shown"
    assert CouponUse.objects.count() == outcomes.count("sold")


def test_twenty_sales_with_one_single_use_coupon_exactly_one_takes_it():
    outcomes = twenty_sales_with_one_coupon()
    assert sorted(outcomes) == ["coupon_not_valid:used"] * (WORKERS - 1) + ["sold"]
    assert CouponUse.objects.count() == 1
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 1
    assert_ledger_sound()
    assert connection.vendor in ("postgresql", "sqlite")
