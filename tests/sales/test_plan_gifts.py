"""A top-up plan that gives points and a coupon with the top-up (赠送积分、赠送卡券):
"500 → +50, 100 points and 20.00 off your next refill". The points come in the
top-up's own batch, the coupon is the customer's alone; taking the top-up back takes
both back — refused once the coupon was used. ``verify`` stays clean."""

from __future__ import annotations

import pytest

from prepaid.coupons.models import Coupon
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(client, owner, business):
    client.force_login(owner.user)
    form = {"name": "500 → +50", "amount": "500", "bonus": "50", "gift_points": "100",
            "gift_coupon": "20", "gift_coupon_days": "7", "position": "0",
            "active": "on"}  # fmt: skip
    assert client.post("/shop/plans/new/", form).status_code == 302
    from prepaid.catalog.models import TopUpPlan

    return TopUpPlan.objects.get()


def top_up(api, code: str, plan, key: str):
    return api.cashier.post(
        f"/customers/{code}/top-ups",
        {"amount": "500.00", "method": "cash", "plan": plan.pk},
        key=key,
    )


def test_the_plan_gives_points_and_a_coupon_and_a_reversal_takes_them_back(api, plan):
    code = register(api)["code"]
    answer = top_up(api, code, plan, "t1")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["bonus_amount"], body["gift_points"]) == ("50.00", 100)
    gift = body["gift_coupon"]
    assert gift["value"] == "20.00" and gift["customer"] == code
    assert api.cashier.get(f"/customers/{code}").json()["points"] == "100"
    assert_ledger_sound()

    # Another customer cannot take it.
    water = make_product("Refill", price="30", unit="piece")
    other = register(api, name="Juan Cruz", phone="09181234567")["code"]
    api.cashier.post(f"/customers/{other}/top-ups", {"amount": "100.00", "method": "cash"}, key="o")
    refused = api.cashier.post(
        f"/customers/{other}/sales",
        {"lines": [{"product": water.pk, "quantity": "1"}], "coupon": gift["code"]},
        key="s0",
    )
    assert refused.status_code == 409 and refused.json()["error"]["reason"] == "other_customer"

    undone = api.owner.post(f"/transactions/{body['id']}/reversal", {"reason": "r"}, key="r")
    assert undone.status_code == 201, undone.content
    assert Coupon.objects.get(code=gift["code"]).withdrawn_at is not None
    assert api.cashier.get(f"/customers/{code}").json()["points"] == "0"
    assert_ledger_sound()


def test_a_top_up_whose_gift_coupon_was_used_stays(api, plan):
    code = register(api)["code"]
    body = top_up(api, code, plan, "t1").json()
    water = make_product("Refill", price="30", unit="piece")
    sold = api.cashier.post(
        f"/customers/{code}/sales",
        {"lines": [{"product": water.pk, "quantity": "1"}], "coupon": body["gift_coupon"]["code"]},
        key="s1",
    )
    assert sold.status_code == 201 and sold.json()["discount"] == "20.00"
    refused = api.manager.post(f"/transactions/{body['id']}/reversal", {"reason": "r"}, key="r")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "gift_used"
    assert_ledger_sound()
