"""Punch cards where people look: the owner offers one from the back office (and a
cashier may not), the customer's own page and the back office's customer page show the
cards held with their uses left and end."""

from __future__ import annotations

import pytest

from prepaid.customers.models import Card
from prepaid.programs import services as programs
from prepaid.programs.models import Package
from prepaid.staff.models import AuditEvent
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


def test_the_owner_offers_a_punch_card_from_the_back_office(client, owner, cashier_a):
    water = make_product("Purified 5 gal", price="30")
    client.force_login(owner.user)
    form = {"name": "10 refills", "product": water.pk, "count": "10", "bonus_count": "1",
            "price": "250", "valid_days": "90", "active": "on"}  # fmt: skip
    saved = client.post("/shop/punch-cards/new/", form)
    assert saved.status_code == 302
    package = Package.objects.get()
    assert (package.uses, package.price_minor, package.valid_days) == (11, 25000, 90)
    assert AuditEvent.objects.filter(action="package.created").exists()
    page = client.get("/shop/products/").content.decode()
    assert "10 refills" in page and "10 + 1" in page

    wrong = client.post("/shop/punch-cards/new/", {**form, "count": "0"})
    assert wrong.status_code == 200 and Package.objects.count() == 1
    client.force_login(cashier_a.user)
    assert client.get("/shop/punch-cards/new/").status_code == 403


def test_the_customer_and_the_back_office_see_the_cards_held(client, owner, actor):
    water = make_product("Purified 5 gal", price="30")
    package = programs.create_package(
        name="10 refills", product=water, count=10, price_minor=25000, valid_days=90, by=None
    )
    maria = make_customer("Maria Santos", actor=actor)
    programs.sell_package(maria, package, method=method(), key="card", actor=actor)
    programs.redeem(maria, water, 3, key="three", actor=actor)
    token = Card.objects.get(customer=maria).token

    own = client.get(f"/c/{token}").content.decode()
    assert "10 refills" in own and "7 uses left" in own and "until" in own
    client.force_login(owner.user)
    back_office = client.get(f"/customers/{maria.code}/").content.decode()
    assert "10 refills" in back_office and "7 uses left" in back_office


def test_the_owner_offers_a_pass_and_the_customer_sees_it(client, owner, cashier_a, actor):
    water = make_product("Purified 5 gal", price="30")
    client.force_login(owner.user)
    form = {"name": "Unlimited refills", "product": "", "price": "500", "valid_days": "30",
            "max_per_day": "2", "max_per_week": "", "active": "on"}  # fmt: skip
    saved = client.post("/shop/passes/new/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    package = Package.objects.get()
    assert (package.kind, package.product, package.max_per_day, package.max_per_week) == (
        "time", None, 2, None,
    )  # fmt: skip
    page = client.get("/shop/products/").content.decode()
    assert "Unlimited refills" in page and "every product · at most 2 a day" in page
    assert client.post("/shop/passes/new/", {**form, "price": "0"}).status_code == 200
    assert client.get(f"/shop/punch-cards/{package.pk}/").status_code == 404  # not a card
    edited = client.post(f"/shop/passes/{package.pk}/", {**form, "max_per_day": "3"})
    assert edited.status_code == 302 and Package.objects.get().max_per_day == 3

    maria = make_customer("Maria Santos", actor=actor)
    package.refresh_from_db()
    programs.sell_package(maria, package, method=method(), key="pass", actor=actor)
    programs.redeem(maria, water, 1, key="one", actor=actor)
    token = Card.objects.get(customer=maria).token
    own = client.get(f"/c/{token}").content.decode()
    assert "Unlimited refills" in own and "2 left today" in own and "(30 days left)" in own
    client.force_login(cashier_a.user)
    assert client.get("/shop/passes/new/").status_code == 403


def test_the_customer_and_the_back_office_see_the_tier_and_the_points(client, owner, actor):
    from decimal import Decimal

    from prepaid.catalog import tiers
    from prepaid.sales import services as sales
    from prepaid.staff.models import Business

    Business.objects.filter(pk=1).update(points_every_minor=100, point_value_minor=10)
    tiers.save_tier(
        None, name="Silver", threshold_minor=1000, discount_bp=0, bonus_multiplier=Decimal(1),
        by=None,
    )  # fmt: skip
    maria = make_customer("Maria Santos", actor=actor)
    sales.top_up(maria, 5000, method=method(), key="t", actor=actor)
    water = make_product("Refill", price="1.00", unit="piece")
    sales.sell(maria, [sales.Line(water, Decimal(12))], key="s", actor=actor)
    token = Card.objects.get(customer=maria).token
    for page in (client.get(f"/c/{token}"), None):
        if page is None:
            client.force_login(owner.user)
            page = client.get(f"/customers/{maria.code}/")
        text = page.content.decode()
        assert 'id="member"' in text and "Silver" in text and "12" in text and "$1.20" in text
