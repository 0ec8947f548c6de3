"""The shop's set-up pages: products and prices, methods, plans, rules, staff and PINs,
stores, counters, API tokens, settings and the activity log."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from prepaid.catalog.models import BonusRule, PriceChange, Product, TopUpPlan
from prepaid.ledger.models import PaymentMethod
from prepaid.staff import counters
from prepaid.staff.models import (
    ApiToken,
    AuditEvent,
    Business,
    Device,
    LoginThrottle,
    PinLockout,
    Staff,
    Store,
)
from prepaid.staff.tokens import authenticate
from tests.factories import make_customer

pytestmark = pytest.mark.django_db
LOGINS = {
    "owner": ("olivia", "owner-pass-1"),
    "manager": ("mona", "manager-pass-1"),
    "cashier": ("carlos", "cashier-pass-1"),
    "accountant": ("adel", "acct-pass-1"),
}
CATALOG = ["/shop/products/", "/shop/products/new/", "/shop/plans/new/", "/shop/rules/new/",
           "/shop/methods/new/"]  # fmt: skip
STAFF = ["/shop/staff/", "/shop/staff/new/", "/shop/stores/new/", "/shop/tokens/new/"]


def signed_in(role: str) -> Client:
    client = Client()
    assert client.login(username=LOGINS[role][0], password=LOGINS[role][1])
    return client


@pytest.fixture
def everyone(owner, manager, cashier_a, accountant):
    return None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("owner", {*CATALOG, *STAFF, "/activity/"}),
        ("manager", {*CATALOG, "/activity/"}),
        ("cashier", set()),
        ("accountant", set()),
    ],
)
def test_who_may_open_which_set_up_page(everyone, role, allowed):
    client = signed_in(role)
    for path in [*CATALOG, *STAFF, "/activity/"]:
        status = client.get(path).status_code
        assert status == (200 if path in allowed else 403), (role, path, status)
    assert Client().get("/shop/products/").status_code == 302  # to the login


def test_a_product_and_a_price_change_with_its_history(everyone, owner):
    client = signed_in("manager")
    form = {"name": "Alkaline", "unit": "gallon", "unit_price": "0.349", "position": 1,
            "colour": "#43a047", "active": "on", "sku": ""}  # fmt: skip
    assert client.post("/shop/products/new/", form).status_code == 302
    product = Product.objects.get()
    assert (product.unit_price, product.colour) == (Decimal("0.3490"), "#43a047")
    client.post(f"/shop/products/{product.pk}/", {**form, "unit_price": "0.35"})
    assert list(PriceChange.objects.values_list("unit_price", flat=True)) == [
        Decimal("0.3490"),
        Decimal("0.3500"),
    ]
    page = client.get(f"/shop/products/{product.pk}/")
    assert b"Price history" in page.content and b"$0.349" in page.content
    bad = client.post("/shop/products/new/", {**form, "unit_price": "0.12345"})
    assert bad.status_code == 200 and Product.objects.count() == 1
    assert AuditEvent.objects.filter(action__startswith="product.").count() == 2


def test_plans_rules_and_methods(everyone):
    client = signed_in("owner")
    client.post("/shop/plans/new/", {"name": "100 → +10", "amount": "100", "bonus": "10",
                                     "position": 0, "active": "on"})  # fmt: skip
    assert TopUpPlan.objects.get().bonus_minor == 1000
    client.post("/shop/rules/new/", {"every": "100", "bonus": "5", "active": "on"})
    assert BonusRule.objects.get().every_minor == 10000
    bad = client.post("/shop/plans/new/", {"name": "x", "amount": "1.005", "bonus": "0",
                                           "position": 0})  # fmt: skip
    assert bad.status_code == 200 and TopUpPlan.objects.count() == 1
    client.post("/shop/methods/new/", {"name": "GCash", "requires_reference": "on",
                                       "position": 5, "active": "on"})  # fmt: skip
    assert PaymentMethod.objects.get(name="GCash").requires_reference
    page = client.get("/shop/products/")
    assert "100 → +10".encode() in page.content and b"GCash" in page.content


def test_staff_with_a_pin_and_a_manager_with_a_login(everyone, store_a):
    client = signed_in("owner")
    response = client.post("/shop/staff/new/", {"name": "Dina", "role": "cashier",
                                                "stores": [store_a.pk], "active": "on",
                                                "pin": "4827"})  # fmt: skip
    assert response.status_code == 302
    dina = Staff.objects.get(name="Dina")
    assert dina.pin_hash and dina.user is None
    easy = client.post(f"/shop/staff/{dina.pk}/", {"name": "Dina", "role": "cashier",
                                                   "stores": [store_a.pk], "active": "on",
                                                   "pin": "1234"})  # fmt: skip
    assert b"too easy" in easy.content

    client.post("/shop/staff/new/", {"name": "Marco", "role": "manager", "stores": [store_a.pk],
                                     "active": "on", "username": "marco",
                                     "password": "a-long-pass-phrase-9"})  # fmt: skip
    assert Client().login(username="marco", password="a-long-pass-phrase-9")


def test_the_last_owner_cannot_be_demoted(everyone, owner, store_a):
    client = signed_in("owner")
    form = {"name": "Olivia", "role": "cashier", "stores": [store_a.pk], "active": "on"}
    response = client.post(f"/shop/staff/{owner.pk}/", form)
    assert response.status_code == 200 and b"at least one active owner" in response.content
    assert Staff.objects.get(pk=owner.pk).role == "owner"


def test_stores_counters_and_lockouts(everyone, owner, cashier_a, store_a):
    client = signed_in("owner")
    client.post(
        "/shop/stores/new/", {"name": "Second Street", "address": "2 Rizal", "active": "on"}
    )
    assert Store.objects.filter(name="Second Street").exists()
    device, _secret = counters.enroll(store_a, "Till 1", by=owner)
    lockout = PinLockout.objects.create(
        staff=cashier_a, device=device, level=1, locked_until="2999-01-01T00:00:00Z"
    )
    page = client.get("/shop/staff/")
    assert b"Till 1" in page.content and b"Let them try again" in page.content
    client.post(f"/shop/lockouts/{lockout.pk}/lift/")
    assert PinLockout.objects.get().locked_until is None
    client.post(f"/shop/counters/{device.pk}/remove/")
    assert Device.objects.get().revoked_at is not None


def test_a_locked_kiosk_and_a_locked_card_page_are_named_as_the_owner_knows_them(
    everyone, owner, store_a
):
    kiosk, _secret = counters.enroll(store_a, "Lobby kiosk", by=owner, kind=Device.Kind.KIOSK)
    maria = make_customer("Maria Santos")
    card = maria.cards.get()
    until = "2999-01-01T00:00:00Z"
    LoginThrottle.objects.create(
        kind=LoginThrottle.Kind.KIOSK, value=f"kiosk:{kiosk.pk}", failures=20, locked_until=until
    )
    LoginThrottle.objects.create(
        kind=LoginThrottle.Kind.CARD, value=f"card:{card.pk}", failures=5, locked_until=until
    )
    page = signed_in("owner").get("/shop/staff/").content.decode()
    assert "unknown cards and wrong PINs at Lobby kiosk" in page
    assert f"reports of a lost card on the page of {maria.code}" in page
    assert "kiosk:" not in page and "card:" not in page


def test_an_api_token_is_shown_once_and_can_be_revoked(everyone):
    client = signed_in("owner")
    response = client.post("/shop/tokens/new/", {"name": "Website", "role": "cashier"})
    key = response.context["key"]
    assert key.encode() in response.content and authenticate(key) is not None
    token = ApiToken.objects.get()
    assert key.encode() not in client.get("/shop/staff/").content
    client.post(f"/shop/tokens/{token.pk}/revoke/")
    assert authenticate(key) is None
    assert AuditEvent.objects.filter(action="token.revoked", staff__name="Olivia").exists()


def test_settings_with_top_up_limits_and_the_idle_lock(everyone):
    client = signed_in("owner")
    form = {"name": "Agua Pura", "spend_order": "paid_first", "time_zone": "UTC",
            "counter_idle_minutes": 3, "top_up_minimum": "5", "top_up_maximum": "500",
            "first_top_up_bonus": "2.50"}  # fmt: skip
    assert client.post("/settings/", form).status_code == 302
    business = Business.current()
    assert (business.top_up_minimum_minor, business.top_up_maximum_minor) == (500, 50000)
    assert (business.first_top_up_bonus_minor, business.counter_idle_minutes) == (250, 3)
    backwards = client.post("/settings/", {**form, "top_up_minimum": "600"})
    assert backwards.status_code == 200 and Business.current().top_up_minimum_minor == 500


def test_a_settings_amount_beyond_the_currency_or_the_ceiling_is_its_fields_error(everyone):
    client = signed_in("owner")
    form = {"name": "Agua Pura", "spend_order": "paid_first", "time_zone": "UTC",
            "counter_idle_minutes": 5, "top_up_minimum": "5.005",
            "approval_above": "99999999999999999"}  # fmt: skip
    refused = client.post("/settings/", form)
    assert refused.status_code == 200
    errors = refused.context["form"].errors
    assert errors["top_up_minimum"] == ["Enter an amount with at most the currency's decimals."]
    assert "9,999,999,999,999.99" in errors["approval_above"][0]
    assert Business.current().top_up_minimum_minor is None


def test_the_settings_page_shows_every_setting_once_in_its_part(everyone):
    from prepaid.backoffice.forms import SettingsForm

    form = SettingsForm(instance=Business.current())
    placed = [name for _title, names in SettingsForm.SECTIONS for name in names]
    assert sorted(placed) == sorted(form.fields) and len(placed) == len(set(placed))

    page = signed_in("owner").get("/settings/").content.decode()
    legends = re.findall(r"<legend>(.*?)</legend>", page)
    assert legends == [str(title) for title, _names in SettingsForm.SECTIONS]
    assert all(page.count(f'name="{name}"') >= 1 for name in placed)
    messages = page.split("<legend>Messages to customers</legend>")[1].split("</fieldset>")[0]
    assert 'name="low_balance"' in messages and 'name="reminder_days"' in messages


def test_the_activity_page_shows_who_did_what(everyone):
    client = signed_in("owner")
    client.post("/shop/stores/new/", {"name": "Third", "active": "on"})
    page = client.get("/activity/")
    assert b"store.saved" in page.content and b"Olivia" in page.content
    assert b"store.saved" in client.get("/activity/", {"action": "store"}).content
    assert b"store.saved" not in client.get("/activity/", {"action": "token"}).content


def test_a_manager_reverses_a_customers_transaction_with_a_reason(everyone, actor):
    from prepaid.ledger.models import Batch
    from prepaid.sales import services as sales
    from tests.factories import make_customer, make_product

    maria = make_customer("Maria Santos", balance="10.00", actor=actor)
    water = make_product(price="1")
    sold = sales.sell(maria, [sales.Line(water, Decimal(2))], key="s", actor=actor)
    path = f"/customers/{maria.code}/reverse/{sold.batch.pk}/"
    assert signed_in("accountant").post(path, {"key": "a", "reason": "x"}).status_code == 403
    client = signed_in("manager")
    page = client.get(f"/customers/{maria.code}/")
    assert path.encode() in page.content
    client.post(path, {"key": "k1", "reason": "Wrong customer"})
    client.post(path, {"key": "k1", "reason": "Wrong customer"})  # the same form again
    assert Batch.objects.filter(reverses=sold.batch).count() == 1
    assert sales.balances(maria).paid == 1000
    refused = client.post(path, {"key": "k2", "reason": "again"}, follow=True)
    assert b"already been reversed" in refused.content
