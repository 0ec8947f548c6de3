"""Aging, dormant balances and the burn-down, against a replay of the ledger in Python
on random ledgers spread over a year, and on a worked example."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.reports import balances
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal
from tests.factories import make_customer, make_product, make_staff, make_store, method

pytestmark = pytest.mark.django_db
NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def shop(business):
    store = make_store("Main")
    staff = make_staff("Ana", store=store)
    people = [make_customer(f"Customer {n}") for n in range(3)]
    return store, staff, people, make_product("Cent", price="0.01", unit="cent")


def post(shop, steps) -> None:
    store, staff, people, cent = shop
    posted: list[Batch] = []
    for number, (kind, who, amount, days_ago) in enumerate(
        sorted(steps, key=lambda step: -step[3])
    ):
        actor = ledger.Actor(store=store, staff=staff, at=NOW - timedelta(days=days_ago, hours=1))
        key = f"b-{number}"
        try:
            if kind == "top_up":
                receipt = sales.top_up(
                    people[who], amount, method=method(), bonus_minor=amount // 10,
                    key=key, actor=actor,
                )  # fmt: skip
            elif kind == "sale":
                receipt = sales.sell(people[who], [sales.Line(cent, amount)], key=key, actor=actor)
            elif posted:
                receipt = sales.reverse(
                    posted[amount % len(posted)], key=key, actor=actor, reason="r"
                )
            else:
                continue
        except Refusal:
            continue
        posted.append(receipt.batch)


def replay():
    """Per wallet: its credits (time, amount) in order, and every account's balance."""
    kinds = dict(Account.objects.filter(customer__isnull=False).values_list("id", "kind"))
    owner = dict(Account.objects.filter(customer__isnull=False).values_list("id", "customer"))
    credits: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    balance: dict[int, int] = defaultdict(int)
    for t in Transfer.objects.order_by("id"):
        if t.debit_account_id in kinds:
            balance[t.debit_account_id] -= t.amount
        if t.credit_account_id in kinds:
            balance[t.credit_account_id] += t.amount
            if kinds[t.credit_account_id] == "wallet":
                credits[t.credit_account_id].append((t.created_at, t.amount))
    return kinds, owner, credits, balance


def expected_aging() -> list[int]:
    kinds, _owner, credits, balance = replay()
    buckets = [0] * 5
    for account, held in balance.items():
        if kinds[account] != "wallet" or held <= 0:
            continue
        left = held
        for at, amount in reversed(credits[account]):
            if left <= 0:
                break
            part = min(amount, left)
            age = NOW - at
            index = next((i for i, d in enumerate(balances.BUCKETS) if age <= timedelta(days=d)), 4)
            buckets[index] += part
            left -= part
    return buckets


step = st.tuples(
    st.sampled_from(["top_up", "top_up", "sale", "sale", "reverse"]),
    st.integers(0, 2),
    st.integers(1, 5000),
    st.integers(0, 500),  # days before NOW
)


@settings(
    max_examples=int(os.getenv("PREPAID_STATEMENT_EXAMPLES", "12")),
    deadline=None,
    derandomize=bool(os.getenv("CI")),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=20))
# A sale before the pace window, reversed in it: no spending of the window (it once made
# the pace negative, and the burn-down below zero).
@example(steps=[("top_up", 0, 5000, 120), ("sale", 0, 100, 100), ("reverse", 0, 1, 10)])
def test_aging_and_the_burn_down_agree_with_a_replay(shop, steps):
    from django.db import transaction

    point = transaction.savepoint()
    try:
        post(shop, steps)
        assert list(balances.aging(NOW).amounts) == expected_aging()
        kinds, owner, _credits, balance = replay()
        held = defaultdict(int)
        for account, value in balance.items():
            held[owner[account]] += max(value, 0) if kinds[account] == "wallet" else value
        burn = balances.burn_down(NOW)
        assert burn.held == sum(v for v in held.values() if v > 0)
        assert burn.within[0] <= burn.within[1] <= burn.within[2] <= burn.held
        # Dormant: customers holding something whose last transaction is older than
        # the cut-off, for each day count the page offers, from one pass.
        last: dict[int, datetime] = {}
        for customer, moment in Batch.objects.values_list("customer_id", "created_at"):
            last[customer] = max(moment, last.get(customer, moment))
        for days, found in balances.dormant_all(NOW).items():
            cutoff = NOW - timedelta(days=days)
            quiet = {c for c, v in held.items() if v > 0 and last.get(c, cutoff) < cutoff}
            assert found.count == len(quiet), days
            assert found.paid + found.bonus == sum(held[c] for c in quiet), days
    finally:
        transaction.savepoint_rollback(point)


def test_a_worked_example_of_aging_dormancy_and_pace(shop):
    """Maria paid in 100.00 400 days ago and 50.00 20 days ago, then spent 90.00 in the
    last 90 days: of her 60.00 the newest 50.00 is 20 days old, 10.00 is 400 days old.
    Jun paid 30.00 200 days ago and has not been back since."""
    store, staff, (maria, jun, _ana), cent = shop

    def at(days_ago: int) -> ledger.Actor:
        return ledger.Actor(store=store, staff=staff, at=NOW - timedelta(days=days_ago))

    sales.top_up(maria, 10000, method=method(), bonus_minor=0, key="m1", actor=at(400))
    sales.top_up(maria, 5000, method=method(), bonus_minor=0, key="m2", actor=at(20))
    sales.sell(maria, [sales.Line(cent, 9000)], key="m3", actor=at(10))
    sales.top_up(jun, 3000, method=method(), bonus_minor=500, key="j1", actor=at(200))

    assert balances.aging(NOW).amounts == (5000, 0, 0, 3000, 1000)
    quiet = balances.dormant(60, now=NOW)
    assert (quiet.count, quiet.paid, quiet.bonus) == (1, 3000, 500)
    assert quiet.largest[0].customer_id == jun.pk
    assert quiet.largest[0].last_seen == NOW - timedelta(days=200)
    burn = balances.burn_down(NOW)
    assert burn.held == 6000 + 3500
    # Maria spends 90.00 per 90 days: within 30 days 30.00, 60 days 60.00 (all she has).
    assert burn.within == (3000, 6000, 6000)
    assert (burn.breakage, burn.quiet_customers, burn.customers) == (3500, 1, 2)
    assert burn.beyond == 3500
