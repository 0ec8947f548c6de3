"""The shop's spend order decides which balance a sale uses; no cent is lost either way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaid.sales import services as sales
from prepaid.sales.services import split_payment
from prepaid.staff.models import SpendOrder
from tests.conftest import assert_ledger_sound
from tests.factories import key, make_customer, make_product


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (SpendOrder.PROPORTIONAL, (1000, 250)),  # 80 paid : 20 bonus
        (SpendOrder.PAID_FIRST, (1250, 0)),
        (SpendOrder.BONUS_FIRST, (0, 1250)),
    ],
)
@pytest.mark.django_db
def test_a_sale_spends_by_the_shops_order(actor, business, order, expected):
    business.spend_order = order
    business.save()
    customer = make_customer(balance="80.00", bonus="20.00", actor=actor)
    water = make_product(price="0.25")

    sales.sell(customer, [sales.Line(water, Decimal(50))], key=key(), actor=actor)

    balances = sales.balances(customer)
    assert (8000 - balances.paid, 2000 - balances.bonus) == expected
    assert_ledger_sound()


def test_proportional_rounds_the_bonus_share_half_up():
    assert split_payment(1, 1, 1, SpendOrder.PROPORTIONAL) == (0, 1)  # 0.5 → 1
    assert split_payment(10, 200, 100, SpendOrder.PROPORTIONAL) == (7, 3)  # 3.33 → 3
    assert split_payment(5, 100, 100, SpendOrder.PROPORTIONAL) == (2, 3)  # 2.5 → 3


def test_what_the_balances_cannot_cover_goes_to_credit():
    assert split_payment(500, 100, 50, SpendOrder.PROPORTIONAL) == (450, 50)
    assert split_payment(500, -100, 50, SpendOrder.BONUS_FIRST) == (450, 50)


@given(
    total=st.integers(1, 10**9),
    paid=st.integers(-(10**6), 10**9),
    bonus=st.integers(0, 10**9),
    order=st.sampled_from(list(SpendOrder)),
)
def test_the_parts_add_up_and_never_overdraw_the_bonus(total, paid, bonus, order):
    from_paid, from_bonus = split_payment(total, paid, bonus, order)
    assert from_paid + from_bonus == total
    assert 0 <= from_bonus <= bonus
    assert from_paid >= 0
    if total <= max(paid, 0) + bonus:
        assert from_paid <= max(paid, 0)  # no credit used while the balances suffice


@given(
    part=st.integers(min_value=0, max_value=10**6),
    amounts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
)
def test_a_share_over_lines_adds_up_exactly_and_stays_in_proportion(part, amounts):
    part = min(part, sum(amounts))
    shares = sales.share(part, amounts)
    assert sum(shares) == part
    total = sum(amounts)
    for share, amount in zip(shares, amounts, strict=True):
        assert 0 <= share <= amount
        assert abs(share - part * amount / total) < 1  # each within a cent of exact
