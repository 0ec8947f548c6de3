"""The demo shop speaks the chosen currency (issue #13, found by a newcomer: a peso
shop's plans were named "10 → +1")."""

from __future__ import annotations

import pytest

from prepaid.catalog.models import TopUpPlan
from prepaid.lib.money import from_minor
from prepaid.sales import demo
from prepaid.staff.models import Staff
from tests.factories import make_business, make_staff, make_store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("currency", "names"), [("PHP", ["500 → +50", "1000 → +150"]), ("USD", ["10 → +1", "20 → +3"])]
)
def test_the_demo_plans_are_named_by_what_they_are_in_the_shops_money(currency, names):
    make_business(currency=currency, region="PH")
    make_staff("Olga", Staff.Role.OWNER, store=make_store())
    demo.load(people=3, days=1)
    plans = list(TopUpPlan.objects.order_by("position"))
    assert [plan.name for plan in plans] == names
    for plan in plans:
        amount, bonus = plan.name.split(" → +")
        assert from_minor(plan.amount_minor, currency) == int(amount)
        assert from_minor(plan.bonus_minor, currency) == int(bonus)
