"""Member tiers as an owner sets them up: "Silver from 1,000.00 paid in, 5% off, bonus
× 1.5" and "Gold from 5,000.00, 10% off, 20% off water". A customer moves up on the
top-up that crosses the threshold (audited, in their timeline), buys at the tier's
price with the discount on the lines and the receipt, gets the multiplied bonus, and
is moved down by the daily review when the figure no longer holds (a reversed top-up,
a rolling window). Tiering by spending moves up on the sale. ``verify`` stays clean."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from prepaid.catalog import services as catalog
from prepaid.catalog import tiers
from prepaid.catalog.models import CustomerTier, Tier
from prepaid.customers.models import Note
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent, Business, TierBasis, TierWindow
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def ladder(client, owner):
    water = make_product("Purified water", price="10.00", unit="gallon")
    client.force_login(owner.user)
    silver = {"name": "Silver", "threshold": "1000", "discount": "5", "bonus_multiplier": "1.5"}
    assert client.post("/shop/tiers/new/", silver).status_code == 302
    gold = {"name": "Gold", "threshold": "5000", "discount": "10", "bonus_multiplier": "2",
            f"product_{water.pk}": "20"}  # fmt: skip
    assert client.post("/shop/tiers/new/", gold).status_code == 302
    wrong = client.post("/shop/tiers/new/", {**silver, "name": "Again"})
    assert (
        wrong.status_code == 200
        and "Another tier starts at the same figure" in wrong.content.decode()
    )
    page = client.get("/shop/products/").content.decode()
    assert "Silver" in page and "5%" in page and "× 2.00" in page
    return water


def test_a_customer_moves_up_on_the_top_up_that_crosses_and_buys_at_the_tiers_price(api, ladder):
    water = ladder
    code = register(api)["code"]
    top = lambda amount, key: api.cashier.post(  # noqa: E731
        f"/customers/{code}/top-ups", {"amount": amount, "method": "cash"}, key=key
    )
    assert top("600.00", "t1").status_code == 201
    assert api.cashier.get(f"/customers/{code}").json()["tier"] is None
    assert top("500.00", "t2").status_code == 201  # 1,100.00 paid in: Silver
    tier = api.cashier.get(f"/customers/{code}").json()["tier"]
    assert (tier["name"], tier["discount_percent"]) == ("Silver", "5")
    event = AuditEvent.objects.get(action="customer.tier")
    assert (event.before, event.after["tier"]) == ({"tier": "–"}, "Silver")
    assert [n.text for n in Note.objects.filter(kind=Note.Kind.TIER)] == ["– → Silver"]

    sold = api.cashier.post(
        f"/customers/{code}/sales", {"lines": [{"product": water.pk, "quantity": "3"}]}, key="s1"
    )
    assert sold.status_code == 201, sold.content
    body = sold.json()
    assert (body["total"], body["discount"]) == ("28.50", "1.50")  # 30.00 less 5%
    assert body["lines"][0]["tier_discount"] == "1.50"
    assert_ledger_sound()

    # Gold: 20% off water (its own rate), and a plan's bonus doubled.
    plan = catalog.save_plan(None, name="500 → +50", amount_minor=50000, bonus_minor=5000, by=None)
    topped = api.cashier.post(
        f"/customers/{code}/top-ups",
        {"amount": "5000.00", "method": "cash"},
        key="t3",
    )
    assert topped.status_code == 201
    assert api.cashier.get(f"/customers/{code}").json()["tier"]["name"] == "Gold"
    bonus = api.cashier.post(
        f"/customers/{code}/top-ups",
        {"amount": "500.00", "method": "cash", "plan": plan.pk},
        key="t4",
    ).json()
    assert bonus["bonus_amount"] == "100.00"  # 50.00 × 2
    sold = api.cashier.post(
        f"/customers/{code}/sales", {"lines": [{"product": water.pk, "quantity": "1"}]}, key="s2"
    ).json()
    assert (sold["total"], sold["discount"]) == ("8.00", "2.00")
    assert_ledger_sound()


def test_the_daily_review_moves_down_what_no_longer_holds(actor, ladder):
    customer = make_customer(actor=actor)
    receipt = sales.top_up(customer, 120000, method=method(), key="t", actor=actor)
    assert CustomerTier.objects.get(customer=customer).tier.name == "Silver"
    sales.reverse(receipt.batch, key="undo", actor=actor, reason="wrong customer")
    assert CustomerTier.objects.filter(customer=customer).exists()  # not at the posting
    assert tiers.review() == 1
    assert not CustomerTier.objects.filter(customer=customer).exists()
    assert tiers.review() == 0

    # Twelve months: a year-old top-up qualified then, and falls out of the window.
    Business.objects.filter(pk=1).update(tier_window=TierWindow.YEAR)
    old = replace(actor, at=timezone.now() - timedelta(days=400))
    sales.top_up(customer, 150000, method=method(), key="old", actor=old)
    assert CustomerTier.objects.get(customer=customer).tier.name == "Silver"
    assert tiers.review() == 1
    assert not CustomerTier.objects.filter(customer=customer).exists()
    assert_ledger_sound()


def test_tiering_by_spending_moves_up_on_the_sale(actor, ladder):
    water = ladder
    Business.objects.filter(pk=1).update(tier_basis=TierBasis.SPEND)
    customer = make_customer(balance="2000.00", actor=actor)
    assert not CustomerTier.objects.filter(customer=customer).exists()  # deposits don't count
    sales.sell(customer, [sales.Line(water, Decimal(99))], key="s1", actor=actor)
    assert not CustomerTier.objects.filter(customer=customer).exists()
    sales.sell(customer, [sales.Line(water, Decimal(1))], key="s2", actor=actor)
    assert CustomerTier.objects.get(customer=customer).tier == Tier.objects.get(name="Silver")
    assert_ledger_sound()


def test_a_coupon_and_the_tier_on_one_sale(api, ladder):
    water = ladder
    code = register(api)["code"]
    api.cashier.post(f"/customers/{code}/top-ups", {"amount": "1000.00", "method": "cash"}, key="t")
    coupon = api.owner.post("/coupons", {"kind": "amount", "value": "10.00"}).json()["codes"][0]
    sold = api.cashier.post(
        f"/customers/{code}/sales",
        {"lines": [{"product": water.pk, "quantity": "5"}], "coupon": coupon},
        key="s",
    )
    assert sold.status_code == 201, sold.content
    body = sold.json()
    # 50.00 less the coupon's 10.00, then 5% of the 40.00 left: 38.00 charged.
    assert (body["total"], body["discount"], body["lines"][0]["tier_discount"]) == (
        "38.00", "12.00", "2.00",
    )  # fmt: skip
    assert_ledger_sound()


def test_moving_up_brings_the_tiers_welcome_coupon(actor, business):
    from prepaid.coupons.models import Coupon

    tiers.save_tier(
        None, name="Silver", threshold_minor=100000, discount_bp=0, bonus_multiplier=Decimal(1),
        gift_coupon_minor=500, gift_coupon_days=14, by=None,
    )  # fmt: skip
    customer = make_customer(actor=actor)
    sales.top_up(customer, 60000, method=method(), key="t1", actor=actor)
    assert not Coupon.objects.exists()
    sales.top_up(customer, 60000, method=method(), key="t2", actor=actor)
    (welcome,) = Coupon.objects.all()
    assert (welcome.customer, welcome.value, welcome.series) == (customer, 500, "Silver")
    assert welcome.valid_until == timezone.localdate() + timedelta(days=14)
    sales.top_up(customer, 60000, method=method(), key="t3", actor=actor)
    assert Coupon.objects.count() == 1  # once, on the move up
    assert_ledger_sound()
