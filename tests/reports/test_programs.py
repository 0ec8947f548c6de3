"""The statement's programs section: a day's punch card uses (and what they made
revenue), uses under a pass, uses that expired (breakage), points earned and used, and
what is still owed in them at the end of the day — equal to the ledger's deferred money
and the customers' points."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account
from prepaid.operations.programs import expire_due
from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from prepaid.reports.programs import figures
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff.models import Business
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


def test_a_days_programs_and_what_is_owed_in_them(client, owner, actor):
    Business.objects.filter(pk=1).update(points_every_minor=100, point_value_minor=10)
    water = make_product("Refill", price="1.00", unit="piece")
    maria = make_customer("Maria", balance="50.00", actor=actor)
    card = programs.create_package(
        name="3 refills", product=water, count=3, price_minor=900, valid_days=30, by=None
    )
    monthly = programs.create_package(
        kind="time", name="Month", product=water, price_minor=5000, valid_days=30, by=None
    )
    bought = programs.sell_package(maria, card, method=method(), key="card", actor=actor).card
    programs.sell_package(maria, monthly, method=method(), key="pass", actor=actor)
    programs.redeem(maria, water, 3, key="three", actor=actor)  # the pass takes all three
    ended = programs.sell_package(maria, card, method=method(), key="c2", actor=actor).card
    PunchCard.objects.filter(pk=ended.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expire_due()
    sales.sell(maria, [sales.Line(water, Decimal(5))], key="sale", actor=actor)  # 5 points
    points.redeem(maria, 2, key="points", actor=actor)

    today = timezone.localdate()
    found = figures(today, today)
    assert (found.card_uses, found.pass_uses, found.recognised) == (0, 3, 0)
    assert (found.uses_expired, found.breakage) == (3, 900)
    assert (found.points_earned, found.points_used, found.points_at_end) == (5, 2, 3)
    deferred = sum(ledger.balance(a) for a in Account.objects.filter(kind=Account.Kind.DEFERRED))
    assert found.deferred_at_end == deferred == 900 + 5000  # the running card and the pass
    assert programs.remaining_of(PunchCard.objects.get(pk=bought.pk)) == 3

    client.force_login(owner.user)
    page = client.get("/reports/statement/").content.decode()
    assert "Punch cards, passes and points" in page and "Points held at the end" in page
