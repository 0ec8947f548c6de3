"""Two counters take the last use a pass allows today at the same moment: the caps are
read under the pass's account row lock, so exactly one gets it and the other is refused
with ``nothing_to_redeem``. The control reads the uses without the lock, both counters
read "one left" before either posts (a barrier makes sure), and both get it: the race
is real, and the lock is what closes it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from prepaid.operations.envelope import run
from prepaid.operations.programs import Redeem
from prepaid.programs import services as programs
from prepaid.programs.models import PassUse
from prepaid.staff.refusals import Refusal
from tests.concurrency.test_debits import run_workers
from tests.conftest import assert_ledger_sound
from tests.factories import make_actor, make_business, make_customer, make_product, method

pytestmark = pytest.mark.django_db(transaction=True)


def a_pass_with_one_use_left_today():
    make_business(currency="PHP", region="PH")
    actor = make_actor()
    customer = make_customer()
    water = make_product("Refill", price="10")
    package = programs.create_package(
        kind="time", name="Two a day", product=water, price_minor=50000, valid_days=30,
        max_per_day=2, by=None,
    )  # fmt: skip
    programs.sell_package(customer, package, method=method(), key="pass", actor=actor)
    programs.redeem(customer, water, 1, key="first", actor=actor)
    return actor, customer, water


def two_counters(actor, customer, water) -> list[str]:
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

    run_workers(2, work)
    return sorted(outcomes)


def test_two_counters_take_the_last_use_of_the_day_once():
    actor, customer, water = a_pass_with_one_use_left_today()
    assert two_counters(actor, customer, water) == ["nothing_to_redeem", "redeemed"]
    assert sum(use.count for use in PassUse.objects.all()) == 2
    assert_ledger_sound()


def test_control_without_the_lock_both_take_it(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: two redemptions cannot race there")
    actor, customer, water = a_pass_with_one_use_left_today()
    both_read = threading.Barrier(2)
    counted = programs._uses_counted

    def unlocked(customer, product, now):
        return list(
            programs._passes_in_force(customer, now).filter(account__isnull=False)
        )  # no FOR UPDATE

    def read_then_wait(passes, now):
        uses = counted(passes, now)
        both_read.wait(timeout=30)  # both have read "one left" before either posts
        return uses

    monkeypatch.setattr(programs, "_lock_passes", unlocked)
    monkeypatch.setattr(programs, "_uses_counted", read_then_wait)
    assert two_counters(actor, customer, water) == ["redeemed", "redeemed"]
    assert sum(use.count for use in PassUse.objects.all()) == 3  # over the cap of 2
