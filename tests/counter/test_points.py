"""At the counter, a customer's points become bonus in one tap."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff.models import Business
from tests.conftest import assert_ledger_sound
from tests.counter.test_punch_cards import form_key
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_the_counter_turns_points_into_bonus(till, maria, actor, business):
    Business.objects.filter(pk=1).update(points_every_minor=100, point_value_minor=5)
    refill = make_product("Refill", price="1.00", unit="piece")
    sales.sell(maria, [sales.Line(refill, Decimal(4))], key="s", actor=actor)
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Use 4 points: $0.20 bonus" in panel
    used = till.post(
        f"/counter/c/{maria.code}/points/",
        {"key": form_key(panel, 'id="points-form"'), "points": "4"},
    )
    assert used.status_code == 302
    receipt = till.get(used["Location"]).content.decode()
    assert "Points redeemed" in receipt and "$0.20" in receipt
    assert points.balance(maria) == 0
    assert_ledger_sound()


def test_the_receipt_of_a_plan_with_gifts_lists_them(till, maria, business):
    from prepaid.catalog import services as catalog
    from tests.factories import method

    plan = catalog.save_plan(
        None, name="500 → +50", amount_minor=50000, bonus_minor=5000, gift_points=100,
        gift_coupon_minor=2000, gift_coupon_days=7, by=None,
    )  # fmt: skip
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    done = till.post(
        f"/counter/c/{maria.code}/top-up/",
        {"key": form_key(panel, 'id="top-up-form"'), "plan": plan.pk, "amount": "",
         "method": method("cash").pk},
    )  # fmt: skip
    assert done.status_code == 302
    receipt = till.get(done["Location"]).content.decode()
    assert 'id="points-line"' in receipt and "+100" in receipt
    assert "Gift coupon" in receipt and "$20.00" in receipt
    assert_ledger_sound()
