"""Statements equal the ledger, on random ledgers spread over several of the shop's days.

A shop in Manila (UTC+8) posts random top-ups (cash, card, with and without bonus),
sales (paid, bonus and credit money), refunds and reversals, back-dated over five days.
For any span: the statement's figures are the sums of that span's postings (counted
again here, independently, from the ledger's rows); what was owed at each day's end is
what replaying the transfers in Python gives (paid above zero, bonus, credit apart);
day N's closing is day N+1's opening; the days of a span add up to the span; and a
summarised day reads exactly as the live one did.
"""

from __future__ import annotations

import itertools
import os
import zoneinfo
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.reports import days
from prepaid.reports import statements as statements_module
from prepaid.reports.flows import Owed
from prepaid.reports.models import Interim, LiabilityDay
from prepaid.reports.statements import Scope, liability_series, statement
from prepaid.sales import services as sales
from prepaid.sales.models import SaleLine
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, make_staff, make_store, method

pytestmark = pytest.mark.django_db
MANILA = zoneinfo.ZoneInfo("Asia/Manila")
FIRST = date(2026, 3, 1)
DAYS = [FIRST + timedelta(days=n) for n in range(5)]
NOW = datetime(2026, 3, 8, 9, 0, tzinfo=MANILA)  # every day of the ledger has ended

step = st.tuples(
    st.sampled_from(["top_up", "top_up", "sale", "sale", "sale", "refund", "reverse"]),
    st.integers(0, 2),  # customer
    st.integers(1, 6000),  # an amount or cents
    st.integers(0, 4 * 24 * 60 + 23 * 60),  # minutes after the first day's 01:00 local
    st.booleans(),  # store A or B; cash or card; with bonus or not
)


@pytest.fixture
def shop(db):
    business = Business.objects.get_or_create(
        pk=1,
        defaults={"name": "T", "currency": "PHP", "region": "PH", "time_zone": "Asia/Manila"},
    )[0]
    business.currency, business.time_zone = "PHP", "Asia/Manila"
    business.save()
    stores = [make_store("Store A"), make_store("Store B")]
    staff = make_staff("Ana", store=stores[0])
    people = [make_customer(f"Customer {n}") for n in range(3)]
    sales.set_credit_limit(people[2], 2000, by=None)  # one of them may go into credit
    return stores, staff, people, make_product("Water", price="0.01", unit="cent")


def post(shop, steps) -> None:
    """The steps in time order; refused ones change nothing and are skipped."""
    stores, staff, people, water = shop
    posted: list[Batch] = []
    for number, (kind, who, amount, minutes, flag) in enumerate(sorted(steps, key=lambda s: s[3])):
        at = datetime(2026, 3, 1, 1, 0, tzinfo=MANILA) + timedelta(minutes=minutes)
        actor = ledger.Actor(store=stores[int(flag)], staff=staff, at=at)
        customer = people[who]
        key = f"step-{number}"
        try:
            if kind == "top_up":
                receipt = sales.top_up(
                    customer,
                    amount,
                    method=method("cash" if flag else "card"),
                    bonus_minor=amount // 10 if flag else 0,
                    key=key,
                    actor=actor,
                )
            elif kind == "sale":
                receipt = sales.sell(customer, [sales.Line(water, amount)], key=key, actor=actor)
            elif kind == "refund":
                receipt = sales.cash_out(
                    customer, amount, method=method("cash"), key=key, actor=actor, reason="r"
                )
            elif posted:
                original = posted[amount % len(posted)]
                receipt = sales.reverse(original, key=key, actor=actor, reason="r")
            else:
                continue
        except Refusal:
            continue
        posted.append(receipt.batch)


def local_day(moment: datetime) -> date:
    return moment.astimezone(MANILA).date()


def expected_flows(first: date, last: date, store=None) -> dict[str, int]:
    """The span's figures counted straight from the ledger's rows."""
    totals: dict[str, int] = defaultdict(int)
    for transfer in Transfer.objects.select_related("batch", "debit_account", "credit_account"):
        batch = transfer.batch
        if not first <= local_day(batch.created_at) <= last:
            continue
        if store is not None and batch.store_id != store:
            continue
        totals[f"{batch.code}:{transfer.code}"] += transfer.amount
    for line in SaleLine.objects.select_related("batch"):
        if first <= local_day(line.batch.created_at) <= last and (
            store is None or line.batch.store_id == store
        ):
            totals["lines"] += line.amount_minor
            totals["lines bonus"] += line.from_bonus_minor
    return totals


def owed_by_replay(end_of: date) -> Owed:
    """What was owed at the end of the day, by replaying every transfer up to then."""
    limit = days.bounds(end_of)[1]
    balance: dict[int, int] = defaultdict(int)
    kinds = dict(Account.objects.filter(customer__isnull=False).values_list("id", "kind"))
    owners = dict(Account.objects.filter(customer__isnull=False).values_list("id", "customer"))
    for transfer in Transfer.objects.filter(created_at__lt=limit):
        if transfer.debit_account_id in kinds:
            balance[transfer.debit_account_id] -= transfer.amount
        if transfer.credit_account_id in kinds:
            balance[transfer.credit_account_id] += transfer.amount
    paid = sum(max(b, 0) for a, b in balance.items() if kinds[a] == "wallet")
    credit = sum(max(-b, 0) for a, b in balance.items() if kinds[a] == "wallet")
    bonus = sum(b for a, b in balance.items() if kinds[a] == "bonus")
    holders = {owners[a] for a, b in balance.items() if b > 0}
    return Owed(paid, bonus, credit, len(holders))


def figures(found) -> dict[str, int]:
    reversal = sum(line.paid + line.bonus for line in found.reversals)
    return {
        "top_up:top_up": sum(line.amount for line in found.top_ups),
        "top_up:bonus": sum(line.bonus for line in found.top_ups),
        "lines": sum(line.amount for line in found.sales),
        "lines bonus": sum(line.from_bonus for line in found.sales),
        "refund:refund": sum(line.amount for line in found.refunds),
        "refund:forfeit": sum(line.forfeited for line in found.refunds),
        "reversal": reversal,
    }


def from_ledger(totals: dict[str, int]) -> dict[str, int]:
    wanted = {name: totals.get(name, 0) for name in (
        "top_up:top_up", "top_up:bonus", "lines", "lines bonus", "refund:refund", "refund:forfeit"
    )}  # fmt: skip
    wanted["reversal"] = totals.get("reversal:reversal", 0) - totals.get("reversal:bonus", 0)
    return wanted


@settings(
    max_examples=int(os.getenv("PREPAID_STATEMENT_EXAMPLES", "12")),
    deadline=None,
    derandomize=bool(os.getenv("CI")),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step, min_size=1, max_size=25),
    span=st.tuples(st.integers(0, 4), st.integers(0, 4)),
)
def test_statements_equal_the_ledger_on_random_ledgers(shop, steps, span):
    with transaction_per_example():
        post(shop, steps)
        assert_ledger_sound()
        first, last = sorted(DAYS[n] for n in span)
        store_a = shop[0][0].pk

        whole = statement(first, last, now=NOW)
        assert figures(whole) == from_ledger(expected_flows(first, last))
        at_a = statement(first, last, Scope(store=store_a), now=NOW)
        assert figures(at_a) == from_ledger(expected_flows(first, last, store=store_a))

        for day in DAYS:
            assert days.owed_at_end(day, NOW) == owed_by_replay(day)
        for before, after in itertools.pairwise(DAYS):
            assert (
                statement(before, before, now=NOW).closing
                == statement(after, after, now=NOW).opening
            )
        by_day = [figures(statement(day, day, now=NOW)) for day in DAYS[span[0] : span[1] + 1]]
        summed = {name: sum(day[name] for day in by_day) for name in figures(whole)}
        if span[0] <= span[1]:
            assert summed == figures(statement(DAYS[span[0]], DAYS[span[1]], now=NOW))

        live = [(figures(statement(day, day, now=NOW)), statement(day, day, now=NOW).closing)
                for day in DAYS]  # fmt: skip
        first_posting = days.first_day()
        summarised_days = days.summarise_finished(NOW)
        finished = 0 if first_posting is None else (NOW.date() - first_posting).days
        assert summarised_days == finished
        posted_days = [day for day in DAYS if first_posting and day >= first_posting]
        assert LiabilityDay.objects.filter(day__in=DAYS).count() == len(posted_days)
        summarised = [(figures(statement(day, day, now=NOW)), statement(day, day, now=NOW).closing)
                      for day in DAYS]  # fmt: skip
        assert summarised == live
        assert [row.owed for row in liability_series(DAYS[0], DAYS[-1], now=NOW)] == [
            owed for _, owed in live
        ]


class transaction_per_example:
    """Each hypothesis example in a savepoint of the test's transaction, rolled back."""

    def __enter__(self):
        from django.db import transaction

        self.savepoint = transaction.savepoint()

    def __exit__(self, *exc):
        from django.db import transaction

        transaction.savepoint_rollback(self.savepoint)
        return False


def test_a_summarised_day_is_read_from_its_summaries_not_from_the_whole_ledger(shop, monkeypatch):
    """Once the days are summarised, a day's statement reads what was owed at its start
    from the summary of the day before: no span of the ledger from its first day is read
    (a statement used to sum the whole ledger, minutes on 10 million transfers)."""
    post(shop, [("top_up", 0, 5000, 60 * 24 * n, False) for n in range(4)])
    assert days.summarise_finished(now=NOW) > 0
    spans: list[tuple[datetime, datetime]] = []
    change = days.liability_change

    def recorded(start: datetime, end: datetime) -> Owed:
        spans.append((start, end))
        return change(start, end)

    monkeypatch.setattr(days, "liability_change", recorded)
    found = statement(DAYS[2], DAYS[2], now=NOW)

    assert found.closing.paid - found.opening.paid == 5000
    assert all(end - start <= timedelta(days=1) for start, end in spans), spans


TODAY = DAYS[4]
LATE = datetime(2026, 3, 5, 21, 30, tzinfo=MANILA)  # "now", in the evening of the last day
# Steps up to 21:00 of the last day (minutes after the first day's 01:00 local).
step_until_evening = st.tuples(
    st.sampled_from(["top_up", "top_up", "sale", "sale", "sale", "refund", "reverse"]),
    st.integers(0, 2),
    st.integers(1, 6000),
    st.integers(0, 4 * 24 * 60 + 20 * 60),
    st.booleans(),
)


def today_read(store=None):
    scope = Scope(store=store)
    found = statement(TODAY, TODAY, scope, now=LATE)
    return figures(found), found.closing, [(line.method.pk, line.count) for line in found.top_ups]


@settings(
    max_examples=int(os.getenv("PREPAID_STATEMENT_EXAMPLES", "12")),
    deadline=None,
    derandomize=bool(os.getenv("CI")),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step_until_evening, min_size=1, max_size=25),
    cuts=st.tuples(st.integers(6, 21 * 60), st.integers(6, 21 * 60)),
)
def test_today_read_through_the_interim_equals_today_read_from_the_ledger(shop, steps, cuts):
    """The worker keeps today summarised up to a few minutes ago (``keep_interim``, once
    and then brought forward); a statement of today, for the chain and for one store,
    what was owed at its end and the series read the same as from the ledger alone."""
    with transaction_per_example():
        post(shop, steps)
        store_a = shop[0][0].pk
        live = today_read(), today_read(store_a)
        series = [row.owed for row in liability_series(DAYS[0], TODAY, now=LATE)]
        assert series[-1] == owed_by_replay(TODAY)

        days.summarise_finished(LATE)
        start = days.bounds(TODAY)[0]
        for cut in sorted(cuts):
            # The worker at ``cut`` minutes after midnight (plus the settling time).
            days.keep_interim(start + timedelta(minutes=cut) + days.SETTLE)
            kept = Interim.objects.get()
            assert kept.day == TODAY
            assert (today_read(), today_read(store_a)) == live
            assert [row.owed for row in liability_series(DAYS[0], TODAY, now=LATE)] == series
            assert days.owed_at_end(TODAY, LATE) == series[-1]
        assert kept.until >= start + timedelta(minutes=cuts[0])


def test_a_statement_of_today_reads_only_the_minutes_after_the_interim(shop, monkeypatch):
    """With the interim kept, neither the flows nor what was owed are read from the
    ledger before its moment."""
    post(shop, [("top_up", 0, 5000, 60 * 24 * n + 60 * 12, False) for n in range(5)])
    days.summarise_finished(LATE)
    assert days.keep_interim(LATE - timedelta(minutes=1)) == 1
    kept = Interim.objects.get()
    assert days.keep_interim(LATE) == 0  # brought forward only every five minutes
    read: list[tuple[datetime, datetime]] = []
    for module in (statements_module, days):
        for name in ("flows", "liability_change"):
            if hasattr(module, name):
                original = getattr(module, name)
                monkeypatch.setattr(module, name, recording(original, read))

    found = statement(TODAY, TODAY, now=LATE)

    assert found.top_up_total.amount == 5000
    assert read, "the minutes after the interim are read from the ledger"
    assert all(start >= kept.until for start, end in read if start < end), read


def recording(function, read):
    def recorded(start, end):
        read.append((start, end))
        return function(start, end)

    return recorded
