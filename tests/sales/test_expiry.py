"""Money that expires, as the owner's settings say: bonus not spent 30 days after it was
given goes back to the promotion, oldest first, once a day however often the run goes;
paid money never expires unless the rules chosen allow it, and then goes to breakage;
a reversed expiry gives the money back for another term; the settings page refuses paid
expiry without those rules. ``verify`` stays clean throughout."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch
from prepaid.operations.programs import expire_balances
from prepaid.sales import services as sales
from prepaid.staff.models import Business, ExpiryRules, SpendOrder
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=100)


def at(actor, days: float):
    return replace(actor, at=START + timedelta(days=days))


def balances(customer) -> tuple[int, int]:
    found = sales.balances(customer)
    return found.paid, found.bonus


@pytest.fixture
def maria(actor):
    Business.objects.filter(pk=1).update(bonus_expiry_days=30, spend_order=SpendOrder.BONUS_FIRST)
    customer = make_customer("Maria Santos", actor=actor)
    water = make_product("Refill", price="1.00", unit="piece")
    sales.top_up(customer, 10000, method=method(), key="t1", actor=at(actor, 0), bonus_minor=1000)
    sales.sell(customer, [sales.Line(water, 4)], key="s1", actor=at(actor, 10))  # 4.00 bonus
    sales.top_up(customer, 10000, method=method(), key="t2", actor=at(actor, 20), bonus_minor=1000)
    return customer


def test_bonus_expires_oldest_first_once_a_day(maria):
    assert balances(maria) == (20000, 1600)
    assert expire_balances(START + timedelta(days=29)) == (0, 0)  # nothing 30 days old yet

    # Day 31: of the first 10.00, 4.00 was spent: 6.00 expires; the later 10.00 stays.
    assert expire_balances(START + timedelta(days=31)) == (1, 600)
    assert balances(maria) == (20000, 1000)
    assert expire_balances(START + timedelta(days=31, hours=2)) == (0, 0)  # again: nothing
    expiry = Batch.objects.get(code=Batch.Code.EXPIRY)
    assert expiry.staff_id is None and expiry.customer_id == maria.pk
    (leg,) = expiry.transfers.all()
    assert (leg.debit_account.kind, leg.credit_account.kind) == ("bonus", "promotion")
    assert_ledger_sound()

    # Day 51: the second bonus is 30 days old.
    assert expire_balances(START + timedelta(days=51)) == (1, 1000)
    assert balances(maria) == (20000, 0)
    assert_ledger_sound()


def test_a_reversed_expiry_gives_the_bonus_another_term_and_paid_money_stays(maria, manager):
    expire_balances(START + timedelta(days=31))
    expiry = Batch.objects.get(code=Batch.Code.EXPIRY)
    sales.reverse(expiry, key="undo", actor=ledger.Actor(store=expiry.store, staff=manager),
                  reason="customer asked")  # fmt: skip
    assert balances(maria) == (20000, 1600)
    # The 6.00 came back today: it counts from today, like any money put on the account.
    assert expire_balances(START + timedelta(days=32)) == (0, 0)
    # Paid money never expires under the default rules, whatever the days say.
    Business.objects.filter(pk=1).update(paid_expiry_days=30)
    assert expire_balances(START + timedelta(days=99)) == (1, 1000)  # the day-20 bonus only
    assert balances(maria) == (20000, 600)
    assert_ledger_sound()


def test_paid_money_expires_only_under_rules_that_allow_it(maria):
    Business.objects.filter(pk=1).update(
        bonus_expiry_days=None, expiry_rules=ExpiryRules.PAID_MAY_EXPIRE, paid_expiry_days=90
    )
    # Day 95: the first 100.00 paid in on day 0 (nothing paid spent: bonus went first).
    assert expire_balances(START + timedelta(days=95)) == (1, 10000)
    assert balances(maria) == (10000, 1600)
    breakage = Account.objects.get(kind=Account.Kind.BREAKAGE)
    assert ledger.balance(breakage) == 10000
    out = StringIO()
    call_command("expire", stdout=out)  # today: the top-up of day 20 is 80 days old
    assert "expired 0.00 USD on 0 account(s);" in out.getvalue()
    assert_ledger_sound()


def test_the_settings_page_keeps_paid_money_safe_by_default(client, owner):
    client.force_login(owner.user)
    business = Business.objects.get()
    form = {
        "name": business.name,
        "spend_order": business.spend_order,
        "time_zone": business.time_zone,
        "counter_idle_minutes": "5",
        "first_top_up_bonus": "0",
        "bonus_expiry_days": "30",
        "expiry_rules": "paid_never",
        "paid_expiry_days": "365",
    }
    refused = client.post("/settings/", form)
    assert refused.status_code == 200
    assert "Paid money expires only under rules that let it" in refused.content.decode()
    assert Business.objects.get().paid_expiry_days is None
    saved = client.post("/settings/", {**form, "expiry_rules": "paid_may_expire"})
    assert saved.status_code == 302
    business = Business.objects.get()
    assert (business.bonus_expiry_days, business.paid_expiry_days) == (30, 365)
