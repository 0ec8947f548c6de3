"""Points as a shop sets them: a point for every 10.00 of paid money spent, worth 0.10
as bonus. Earned in the sale's own batch on the paid part only (never on bonus), times
the tier's multiplier; redeemed for bonus through the API and at the counter, never
beyond what is held; a reversed sale takes its points back (refused once they were
redeemed); points expire as the shop says, oldest first. ``verify`` stays clean."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from prepaid.catalog import tiers
from prepaid.ledger.models import Batch
from prepaid.operations.programs import expire_balances
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff.models import Business, SpendOrder
from prepaid.staff.refusals import Refusal
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(business):
    Business.objects.filter(pk=1).update(
        points_every_minor=1000, point_value_minor=10, spend_order=SpendOrder.BONUS_FIRST
    )
    return make_product("Refill", price="5.00", unit="piece")


def test_points_are_earned_on_paid_money_only_and_redeemed_for_bonus(api, shop):
    refill = shop
    code = register(api)["code"]
    api.cashier.post(f"/customers/{code}/top-ups", {"amount": "100.00", "method": "cash"}, key="t")
    sales_made = []
    for key, quantity in (("s1", "2"), ("s2", "5")):
        answer = api.cashier.post(
            f"/customers/{code}/sales", {"lines": [{"product": refill.pk, "quantity": quantity}]},
            key=key,
        )  # fmt: skip
        assert answer.status_code == 201, answer.content
        sales_made.append(answer.json())
    assert [s["points_earned"] for s in sales_made] == [1, 2]  # 10.00 → 1; 25.00 → 2
    assert api.cashier.get(f"/customers/{code}").json()["points"] == "3"

    used = api.cashier.post(f"/customers/{code}/points/redemptions", {"points": 2}, key="p1")
    assert used.status_code == 201, used.content
    body = used.json()
    assert (body["kind"], body["bonus_amount"], body["points_balance"]) == ("points", "0.20", 1)
    batches = Batch.objects.count()
    over = api.cashier.post(f"/customers/{code}/points/redemptions", {"points": 2}, key="p2")
    assert over.status_code == 409 and over.json()["error"]["code"] == "not_enough_points"
    assert Batch.objects.count() == batches
    assert_ledger_sound()

    # The second sale's 2 points were partly redeemed: it cannot be taken back now; the
    # first sale's 1 point is still held: reversing it takes it back.
    refused = api.manager.post(
        f"/transactions/{sales_made[1]['id']}/reversal", {"reason": "r"}, key="r1"
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "points_used"
    undone = api.manager.post(
        f"/transactions/{sales_made[0]['id']}/reversal", {"reason": "r"}, key="r2"
    )
    assert undone.status_code == 201
    assert api.cashier.get(f"/customers/{code}").json()["points"] == "0"
    assert_ledger_sound()


def test_bonus_money_earns_nothing_and_a_tier_multiplies(actor, shop):
    refill = shop
    customer = make_customer(actor=actor)
    sales.top_up(customer, 5000, method=method(), key="t", actor=actor, bonus_minor=2000)
    sold = sales.sell(customer, [sales.Line(refill, Decimal(5))], key="s1", actor=actor)
    assert sold.points == 0  # 25.00: 20.00 from bonus (first), 5.00 paid: no whole point
    tiers.save_tier(
        None, name="Gold", threshold_minor=100, discount_bp=0, bonus_multiplier=Decimal(1),
        points_multiplier=Decimal(3), by=None,
    )  # fmt: skip
    tiers.reach(customer)
    sold = sales.sell(
        customer, [sales.Line(refill, Decimal(4))], key="s2", actor=actor,
        tier=tiers.held(customer.pk),
    )  # fmt: skip
    assert sold.points == 6  # 20.00 paid × 3 / 10.00
    assert points.balance(customer) == 6
    assert_ledger_sound()


def test_points_expire_oldest_first(actor, shop):
    refill = shop
    Business.objects.filter(pk=1).update(points_expiry_days=30)
    customer = make_customer(balance="100.00", actor=actor)
    start = timezone.now() - timedelta(days=60)
    sales.sell(customer, [sales.Line(refill, Decimal(6))], key="s1", actor=replace(actor, at=start))
    sales.sell(customer, [sales.Line(refill, Decimal(4))], key="s2", actor=actor)
    assert points.balance(customer) == 5  # 3 sixty days ago, 2 today
    assert expire_balances() == (1, 3)
    assert points.balance(customer) == 2
    with pytest.raises(Refusal) as refused:
        points.redeem(customer, 3, key="p", actor=actor)
    assert refused.value.code == "not_enough_points"
    assert_ledger_sound()
