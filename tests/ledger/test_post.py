"""Worked examples of the ledger core: posting, exactly once, floors, reversal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prepaid.ledger import services as ledger
from prepaid.ledger.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    NotReversible,
)
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.sales import services as sales
from tests.conftest import assert_ledger_sound
from tests.factories import key, make_customer, make_product, method

pytestmark = pytest.mark.django_db


def accounts(customer):
    return sales.wallets(customer)


def snapshot():
    """Every row that money touches, to prove a refusal changed nothing."""
    return (
        list(Account.objects.order_by("pk").values_list("pk", "debits_posted", "credits_posted")),
        Batch.objects.count(),
        Transfer.objects.count(),
    )


def test_a_top_up_with_bonus_credits_wallet_and_bonus(actor):
    customer = make_customer()
    receipt = sales.top_up(
        customer, 10000, method=method("cash"), bonus_minor=2000, key=key(), actor=actor
    )

    wallet, bonus = accounts(customer)
    assert ledger.balance(wallet) == 10000
    assert ledger.balance(bonus) == 2000
    codes = sorted(receipt.batch.transfers.values_list("code", flat=True))
    assert codes == ["bonus", "top_up"]
    cash = ledger.house_account(
        Account.Kind.PAYMENT, store=actor.store, unit="USD", method=method("cash")
    )
    assert ledger.balance(cash) == -10000  # an asset: debited, as credits − debits
    assert receipt.batch.store == actor.store
    assert receipt.batch.staff == actor.staff
    assert_ledger_sound()


def test_every_transfer_carries_its_store_and_staff(actor):
    customer = make_customer(balance="5.00", actor=actor)
    transfer = Transfer.objects.get(batch__customer=customer)
    assert (transfer.store, transfer.staff) == (actor.store, actor.staff)


def test_a_sale_spends_paid_money_before_bonus_and_keeps_its_lines(actor, business):
    business.spend_order = "paid_first"
    business.save()
    customer = make_customer(balance="10.00", bonus="5.00", actor=actor)
    water = make_product(price="0.4000")

    receipt = sales.sell(customer, [sales.Line(water, Decimal("30"))], key=key(), actor=actor)

    assert sales.balances(customer) == sales.Balances(paid=0, bonus=300, credit_limit=0)
    line = receipt.batch.sale_lines.get()
    assert (line.quantity, line.unit_price, line.amount_minor) == (30, Decimal("0.4"), 1200)
    assert_ledger_sound()


def test_a_sale_is_priced_per_line_and_rounded_half_up(actor):
    customer = make_customer(balance="10.00", actor=actor)
    water = make_product(price="0.3490")

    receipt = sales.sell(customer, [sales.Line(water, Decimal("2.5"))], key=key(), actor=actor)

    assert receipt.batch.sale_lines.get().amount_minor == 87  # 0.8725 → 0.87
    assert sales.balances(customer).paid == 913


def test_it_refuses_a_sale_beyond_the_balance_and_changes_nothing(actor):
    customer = make_customer(balance="5.00", actor=actor)
    wallet, _ = accounts(customer)
    revenue = ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit="USD")
    before = snapshot()

    with pytest.raises(InsufficientFunds) as refused:
        ledger.post(
            key(),
            [ledger.Leg(wallet, revenue, 501, Transfer.Code.SALE)],
            code=Batch.Code.SALE,
            actor=actor,
            customer=customer,
        )

    assert refused.value.available == 500
    assert refused.value.shortfall == 1
    assert snapshot() == before
    assert_ledger_sound()


def test_a_credit_limit_lets_the_wallet_go_negative_down_to_the_limit(actor):
    customer = make_customer(balance="1.00", credit_limit="2.00", actor=actor)
    wallet, _ = accounts(customer)
    revenue = ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit="USD")
    sale = [ledger.Leg(wallet, revenue, 300, Transfer.Code.SALE)]
    ledger.post(key(), sale, code=Batch.Code.SALE, actor=actor, customer=customer)
    assert ledger.balance(wallet) == -200

    with pytest.raises(InsufficientFunds) as refused:
        ledger.post(
            key(),
            [ledger.Leg(wallet, revenue, 1, Transfer.Code.SALE)],
            code=Batch.Code.SALE,
            actor=actor,
            customer=customer,
        )
    assert refused.value.available == 0


def test_the_same_key_and_request_returns_the_original_batch(actor):
    customer = make_customer()
    cash = method("cash")
    first = sales.top_up(customer, 1000, method=cash, key="till-1", actor=actor)
    again = sales.top_up(customer, 1000, method=cash, key="till-1", actor=actor)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.batch.pk == first.batch.pk
    assert ledger.balance(accounts(customer)[0]) == 1000
    assert Batch.objects.filter(key="till-1").count() == 1


def test_the_same_key_with_another_amount_is_a_conflict_and_changes_nothing(actor):
    customer = make_customer()
    sales.top_up(customer, 1000, method=method(), key="till-2", actor=actor)
    before = snapshot()

    with pytest.raises(IdempotencyConflict):
        sales.top_up(customer, 2000, method=method(), key="till-2", actor=actor)

    assert snapshot() == before


def test_a_key_is_unique_forever_across_operations(actor):
    customer = make_customer(balance="10.00", actor=actor)
    sales.top_up(customer, 100, method=method(), key="shared", actor=actor)
    with pytest.raises(IdempotencyConflict):
        sales.cash_out(
            customer, 100, method=method(), key="shared", actor=actor, reason="moving away"
        )


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_it_refuses_amounts_that_are_not_positive_integers(actor, amount):
    customer = make_customer()
    wallet, _ = accounts(customer)
    cash = ledger.house_account(
        Account.Kind.PAYMENT, store=actor.store, unit="USD", method=method()
    )
    with pytest.raises(InvalidTransfer):
        ledger.post(
            key(),
            [ledger.Leg(cash, wallet, amount, Transfer.Code.TOP_UP)],
            code=Batch.Code.TOP_UP,
            actor=actor,
        )
    assert Batch.objects.count() == 0


def test_it_refuses_one_account_on_both_sides_and_empty_batches(actor):
    customer = make_customer()
    wallet, _ = accounts(customer)
    with pytest.raises(InvalidTransfer):
        ledger.post(
            key(),
            [ledger.Leg(wallet, wallet, 5, Transfer.Code.ADJUSTMENT)],
            code=Batch.Code.ADJUSTMENT,
            actor=actor,
        )
    with pytest.raises(InvalidTransfer):
        ledger.post(key(), [], code=Batch.Code.ADJUSTMENT, actor=actor)
    with pytest.raises(InvalidTransfer):
        ledger.post(
            "",
            [ledger.Leg(wallet, wallet, 5, Transfer.Code.ADJUSTMENT)],
            code=Batch.Code.ADJUSTMENT,
            actor=actor,
        )


def test_a_reversal_mirrors_the_batch_once(actor):
    customer = make_customer()
    top_up = sales.top_up(customer, 1000, method=method(), bonus_minor=100, key=key(), actor=actor)

    reversal = ledger.reverse(top_up.batch, "undo-1", actor=actor, note="wrong customer")

    wallet, bonus = accounts(customer)
    assert (ledger.balance(wallet), ledger.balance(bonus)) == (0, 0)
    assert reversal.batch.reverses == top_up.batch
    originals = {t.pk: t for t in top_up.batch.transfers.all()}
    for transfer in reversal.batch.transfers.all():
        original = originals[transfer.reverses_id]
        assert (transfer.debit_account_id, transfer.credit_account_id, transfer.amount) == (
            original.credit_account_id,
            original.debit_account_id,
            original.amount,
        )
    with pytest.raises(AlreadyReversed):
        ledger.reverse(top_up.batch, "undo-2", actor=actor)
    assert ledger.reverse(top_up.batch, "undo-1", actor=actor).replayed
    assert_ledger_sound()


def test_a_reversal_cannot_be_reversed(actor):
    customer = make_customer()
    top_up = sales.top_up(customer, 1000, method=method(), key=key(), actor=actor)
    reversal = ledger.reverse(top_up.batch, key(), actor=actor)
    with pytest.raises(NotReversible):
        ledger.reverse(reversal.batch, key(), actor=actor)


def test_a_spent_top_up_cannot_be_reversed(actor, business):
    customer = make_customer()
    top_up = sales.top_up(customer, 1000, method=method(), key=key(), actor=actor)
    sales.sell(
        customer, [sales.Line(make_product(price="1.00"), Decimal(6))], key=key(), actor=actor
    )
    before = snapshot()

    with pytest.raises(InsufficientFunds):
        ledger.reverse(top_up.batch, key(), actor=actor)

    assert snapshot() == before
    assert not Batch.objects.filter(reverses=top_up.batch).exists()


def test_house_accounts_keep_no_cached_totals(actor):
    customer = make_customer(balance="10.00", actor=actor)
    house = Account.objects.filter(customer__isnull=True)
    assert house.exists()
    assert list(house.values_list("debits_posted", "credits_posted").distinct()) == [(0, 0)]
    assert ledger.balance(accounts(customer)[0]) == 1000


def test_a_cash_out_pays_back_paid_money_only_never_credit(actor):
    customer = make_customer(balance="10.00", credit_limit="50.00", actor=actor)
    before = snapshot()

    with pytest.raises(InsufficientFunds) as refused:
        sales.cash_out(
            customer, 6000, method=method(), key=key(), actor=actor, reason="moving away"
        )

    assert (refused.value.available, refused.value.shortfall) == (1000, 5000)
    assert snapshot() == before
    receipt = sales.cash_out(
        customer, 1000, method=method(), key="out", actor=actor, reason="moving away"
    )
    assert sales.balances(customer).paid == 0
    assert receipt.batch.code == Batch.Code.REFUND
