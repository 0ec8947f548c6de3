"""Defects a review found, each pinned by the test that showed it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from prepaid.catalog.models import Product
from prepaid.ledger.models import Batch
from prepaid.sales import services as sales
from prepaid.staff.models import Business, Staff
from tests.api.conftest import Callers, register
from tests.counter.conftest import PINS, at_counter
from tests.counter.test_counter import key_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    from tests.factories import make_business

    make_business(currency="PHP", region="PH")
    return Callers()


def test_enrolling_signs_the_owner_out_of_the_till(client, owner, store_a):
    client.login(username="olivia", password="owner-pass-1")
    client.post("/counter/enroll/", {"store": store_a.pk, "name": "Till"})
    assert client.get("/shop/staff/").status_code == 302  # to the login page


def test_unlocking_drops_a_back_office_login_in_that_browser(device, with_pins, cashier_a):
    client = at_counter(device)
    client.login(username="olivia", password="owner-pass-1")
    client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert client.get("/shop/staff/").status_code == 302
    assert client.get("/counter/").status_code == 200


def test_a_cashier_taken_off_the_store_is_locked_out_at_once(till, cashier_a, store_b):
    cashier_a.stores.set([store_b])
    assert till.get("/counter/")["Location"] == "/counter/unlock/"


def test_a_retry_after_the_product_was_withdrawn_gets_the_stored_answer(api, water):
    code = register(api)["code"]
    api.cashier.post(f"/customers/{code}/top-ups", {"amount": "10", "method": "cash"}, key="t")
    body = {"lines": [{"product": str(water.pk), "quantity": "1"}]}
    first = api.cashier.post(f"/customers/{code}/sales", body, key="s")
    Product.objects.filter(pk=water.pk).update(active=False)
    again = api.cashier.post(f"/customers/{code}/sales", body, key="s")
    assert again.status_code == 201 and again.content == first.content


def test_two_long_keys_that_differ_at_the_end_are_two_sales(api, water):
    code = register(api)["code"]
    api.cashier.post(f"/customers/{code}/top-ups", {"amount": "10", "method": "cash"}, key="t")
    body = {"lines": [{"product": str(water.pk), "quantity": "1"}]}
    api.cashier.post(f"/customers/{code}/sales", body, key="k" * 254 + "1")
    api.cashier.post(f"/customers/{code}/sales", body, key="k" * 254 + "2")
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 2


def test_bad_cursors_and_huge_sales_are_refused_not_500(api):
    assert api.accountant.get("/customers", cursor="²").status_code == 422
    code = register(api)["code"]
    Product.objects.create(name="Gold", unit="bar", unit_price=Decimal("9999999999.9999"))
    body = {"lines": [{"product": "Gold", "quantity": "1"}]}
    product = Product.objects.get(name="Gold")
    body["lines"][0]["product"] = str(product.pk)
    body["lines"][0]["quantity"] = "999999999"
    response = api.cashier.post(f"/customers/{code}/sales", body, key="huge")
    assert response.status_code == 422


def test_a_refund_refusal_says_what_can_be_refunded(api):
    code = register(api)["code"]
    api.manager.patch(f"/customers/{code}", {"credit_limit": "50.00"})
    api.cashier.post(f"/customers/{code}/top-ups", {"amount": "10", "method": "cash"}, key="t")
    body = {"amount": "20.00", "method": "cash", "reason": "leaving"}
    refused = api.manager.post(f"/customers/{code}/refunds", body, key="r")
    assert refused.status_code == 409 and refused.json()["error"]["available"] == "10.00"


def test_nul_in_the_counter_search_is_no_500(till, maria):
    assert till.get("/counter/", {"q": "a\x00b"}).status_code == 200
    assert till.get("/counter/find/", {"q": "ma\x00ria"}).status_code == 200


def test_repeat_last_sale_works_in_dutch(till, maria, water):
    panel = till.get(f"/counter/c/{maria.code}/")
    till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": key_of(panel), "product": water.pk, "quantity": "2.5"},
    )
    panel = till.get(f"/counter/c/{maria.code}/", headers={"Accept-Language": "nl"})
    repeat = key_of(panel, after='class="repeat"')
    assert 'name="quantity" value="2.5"' in panel.content.decode()
    till.post(
        f"/counter/c/{maria.code}/sell/",
        {"key": repeat, "product": water.pk, "quantity": "2.5"},
    )
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 2


def test_a_refused_pin_or_password_saves_nobody(owner, store_a):
    client = Client()
    client.login(username="olivia", password="owner-pass-1")
    form = {"name": "Dan", "role": "cashier", "stores": [store_a.pk], "active": "on"}
    client.post("/shop/staff/new/", {**form, "pin": "1234"})
    client.post("/shop/staff/new/", {**form, "role": "manager", "username": "dan",
                                     "password": "short"})  # fmt: skip
    assert not Staff.objects.filter(name="Dan").exists()


def test_a_person_back_at_work_can_sign_in_again(owner, manager, store_a):
    client = Client()
    client.login(username="olivia", password="owner-pass-1")
    form = {"name": "Mona", "role": "manager", "stores": [store_a.pk]}
    client.post(f"/shop/staff/{manager.pk}/", form)  # unticked: no longer active
    assert not Client().login(username="mona", password="manager-pass-1")
    client.post(f"/shop/staff/{manager.pk}/", {**form, "active": "on"})
    assert get_user_model().objects.get(username="mona").is_active
    assert Client().login(username="mona", password="manager-pass-1")


def test_the_idle_time_cannot_be_zero(owner):
    client = Client()
    client.login(username="olivia", password="owner-pass-1")
    form = {"name": "Agua", "spend_order": "proportional", "time_zone": "UTC",
            "counter_idle_minutes": 0}  # fmt: skip
    assert client.post("/settings/", form).status_code == 200
    assert Business.current().counter_idle_minutes == 5


def test_an_undo_form_sent_for_another_receipt_shows_the_first(till, maria, water):
    sold = []
    for _ in range(2):
        panel = till.get(f"/counter/c/{maria.code}/")
        till.post(
            f"/counter/c/{maria.code}/sell/",
            {"key": key_of(panel), "product": water.pk, "quantity": "1"},
        )
        sold.append(Batch.objects.filter(code=Batch.Code.SALE).latest("id"))
    receipt = till.get(f"/counter/receipt/{sold[1].pk}/")
    undo_key = key_of(receipt)
    till.post(f"/counter/receipt/{sold[1].pk}/undo/", {"key": undo_key, "reason": "oops"})
    other = till.post(f"/counter/receipt/{sold[0].pk}/undo/", {"key": undo_key, "reason": "x"})
    assert other.status_code == 302
    assert Batch.objects.filter(code=Batch.Code.REVERSAL).count() == 1
    assert sales.balances(maria).paid == 975
