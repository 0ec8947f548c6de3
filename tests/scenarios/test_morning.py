"""A morning at the water station: the selling rules, end to end, through the services.

Agua Pura sells purified water at 0.25 and alkaline at 0.349 a gallon. Plans and bonus
rules are set up by the owner; cashiers top up, sell by the gallon, refund and reverse.
Every story ends with ``verify`` clean.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from prepaid.catalog import services as catalog
from prepaid.catalog.models import PriceChange
from prepaid.ledger.errors import AlreadyReversed, InsufficientFunds
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.verify import verify
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent, Business, SpendOrder
from prepaid.staff.refusals import Refusal
from tests.factories import key, make_actor, make_customer, make_product, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(business):
    return make_actor()


@pytest.fixture
def plan(business):
    return catalog.save_plan(None, name="100 → +10", amount_minor=10000, bonus_minor=1000, by=None)


def gallons(product, quantity):
    return sales.Line(product, Decimal(quantity))


def test_a_plan_top_up_then_sales_spend_paid_and_bonus_by_each_order(actor, plan):
    water = make_product("Alkaline", price="0.349")
    expected = {
        SpendOrder.PROPORTIONAL: (159, 16),  # 1.75 for 5 gal: 175 × 10/110 = 15.9 → 16
        SpendOrder.PAID_FIRST: (175, 0),
        SpendOrder.BONUS_FIRST: (0, 175),
    }
    for order, (from_paid, from_bonus) in expected.items():
        Business.objects.filter(pk=1).update(spend_order=order)
        customer = make_customer(f"Customer {order}")
        sales.top_up(customer, 10000, method=method(), plan=plan, key=key(), actor=actor)
        assert sales.balances(customer) == sales.Balances(paid=10000, bonus=1000, credit_limit=0)

        receipt = sales.sell(customer, [gallons(water, "5")], key=key(), actor=actor)

        after = receipt.after
        assert (after.paid, after.bonus) == (10000 - from_paid, 1000 - from_bonus), order
        assert sales.balances(customer) == after
        line = receipt.batch.sale_lines.get()
        assert (line.quantity, line.unit_price, line.amount_minor) == (
            Decimal("5.000"),
            Decimal("0.3490"),
            175,
        )
    assert verify() == []


def test_bonus_rules_and_the_first_top_up_bonus(actor):
    Business.objects.filter(pk=1).update(first_top_up_bonus_minor=500)
    catalog.save_rule(None, every_minor=10000, bonus_minor=1000, by=None)
    catalog.save_rule(None, every_minor=5000, bonus_minor=400, by=None)
    customer = make_customer()

    sales.top_up(customer, 25000, method=method(), key=key(), actor=actor)
    # best rule for 250: 2 × 10 = 20 beats 5 × 4 = 20? equal; plus 5 for the first top-up
    assert sales.balances(customer).bonus == 2000 + 500
    sales.top_up(customer, 15000, method=method(), key=key(), actor=actor)
    # 150: 1 × 10 = 10 against 3 × 4 = 12 → 12; no first-top-up bonus the second time
    assert sales.balances(customer).bonus == 2500 + 1200


def test_top_up_limits_and_references_refuse_with_nothing_posted(actor):
    Business.objects.filter(pk=1).update(top_up_minimum_minor=500, top_up_maximum_minor=100000)
    card = catalog.save_payment_method(None, name="Card terminal", requires_reference=True, by=None)
    customer = make_customer()
    for amount, paid_by, reference, field in (
        (499, method(), "", "amount"),
        (100001, method(), "", "amount"),
        (1000, card, "  ", "reference"),
    ):
        with pytest.raises(Refusal) as refused:
            sales.top_up(
                customer, amount, method=paid_by, reference=reference, key=key(), actor=actor
            )
        assert refused.value.field == field
    assert not Batch.objects.exists()

    receipt = sales.top_up(
        customer, 1000, method=card, reference="SLIP 0042", key=key(), actor=actor
    )
    assert receipt.batch.reference == "SLIP 0042"
    assert receipt.batch.transfers.get().debit_account.payment_method == card


def test_a_sale_beyond_the_balance_is_refused_with_the_shortfall_and_nothing_posted(actor):
    water = make_product(price="0.25")
    customer = make_customer(balance="1.00")
    with pytest.raises(InsufficientFunds) as refused:
        sales.sell(customer, [gallons(water, "5")], key=key(), actor=actor)
    assert refused.value.shortfall == 25
    assert Batch.objects.filter(code=Batch.Code.SALE).count() == 0
    assert sales.balances(customer).paid == 100


def test_a_credit_limit_lets_the_balance_go_down_to_it_and_no_further(actor):
    water = make_product(price="0.25")
    customer = make_customer(balance="1.00", credit_limit="2.00")
    sales.sell(customer, [gallons(water, "12")], key=key(), actor=actor)
    assert sales.balances(customer).paid == -200
    with pytest.raises(InsufficientFunds):
        sales.sell(customer, [gallons(water, "0.04")], key=key(), actor=actor)
    assert verify() == []


def test_a_refund_pays_the_paid_balance_back_and_forfeits_the_bonus(actor, plan):
    customer = make_customer()
    sales.top_up(customer, 10000, method=method(), plan=plan, key=key(), actor=actor)
    with pytest.raises(Refusal):
        sales.cash_out(customer, 10000, method=method(), key=key(), actor=actor, reason=" ")

    receipt = sales.cash_out(
        customer, 10000, method=method(), key=key(), actor=actor, reason="moving away"
    )

    codes = sorted(receipt.batch.transfers.values_list("code", flat=True))
    assert codes == [Transfer.Code.FORFEIT, Transfer.Code.REFUND]
    assert receipt.batch.note == "moving away"
    assert sales.balances(customer) == sales.Balances(paid=0, bonus=0, credit_limit=0)
    assert verify() == []


def test_reversals_happen_once_with_a_reason_and_never_of_spent_top_ups(actor, plan):
    water = make_product(price="0.25")
    customer = make_customer(credit_limit="50.00")
    top_up = sales.top_up(customer, 10000, method=method(), plan=plan, key=key(), actor=actor)
    sale = sales.sell(customer, [gallons(water, "4")], key=key(), actor=actor)

    with pytest.raises(Refusal, match="spent"):  # even though the credit limit would carry it
        sales.reverse(top_up.batch, key=key(), actor=actor, reason="wrong customer")
    with pytest.raises(Refusal):
        sales.reverse(sale.batch, key=key(), actor=actor, reason="")

    sales.reverse(sale.batch, key=key(), actor=actor, reason="wrong water")
    with pytest.raises(AlreadyReversed):
        sales.reverse(sale.batch, key=key(), actor=actor, reason="again")
    sales.reverse(top_up.batch, key=key(), actor=actor, reason="wrong customer")

    assert sales.balances(customer) == sales.Balances(paid=0, bonus=0, credit_limit=5000)
    assert AuditEvent.objects.filter(action="transaction.reversed").count() == 2
    assert verify() == []


def test_a_price_change_applies_to_later_sales_only(actor):
    water = catalog.create_product(
        catalog.ProductChange(name="Purified", unit="gallon", unit_price=Decimal("0.25")), by=None
    )
    customer = make_customer(balance="10.00")
    first = sales.sell(customer, [gallons(water, "2")], key=key(), actor=actor)
    water = catalog.update_product(
        water, catalog.ProductChange(unit_price=Decimal("0.30")), by=actor.staff
    )
    second = sales.sell(customer, [gallons(water, "2")], key=key(), actor=actor)

    assert first.batch.sale_lines.get().amount_minor == 50
    assert second.batch.sale_lines.get().amount_minor == 60
    history = PriceChange.objects.filter(product=water).values_list("unit_price", flat=True)
    assert list(history) == [Decimal("0.25"), Decimal("0.30")]
    change = AuditEvent.objects.get(action="product.changed")
    assert (change.before["unit_price"], change.after["unit_price"]) == ("0.2500", "0.3000")


def test_bad_products_are_refused_with_the_field_at_fault(business):
    for change, field in (
        (catalog.ProductChange(name="", unit="gallon", unit_price=Decimal(1)), "name"),
        (catalog.ProductChange(name="W", unit="gallon", unit_price=Decimal("-1")), "unit_price"),
        (
            catalog.ProductChange(name="W", unit="gallon", unit_price=Decimal("0.12345")),
            "unit_price",
        ),
        (catalog.ProductChange(name="W", unit="l", unit_price=Decimal(1), colour="red"), "colour"),
    ):
        with pytest.raises(catalog.CatalogError) as refused:
            catalog.create_product(change, by=None)
        assert refused.value.field == field
