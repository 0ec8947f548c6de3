"""Use cases at the counter: top up, sell, cash out, undo.

Each composes ``ledger.services.post``/``reverse`` with the shop's rules. The counter,
the API and the CLI call these; none of them builds transfers itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.customers.services import Author, CustomerError
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import InsufficientFunds, InvalidTransfer
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib.money import price_line
from prepaid.sales.models import SaleLine
from prepaid.staff import audit
from prepaid.staff.models import Business, SpendOrder

Actor = ledger.Actor
Receipt = ledger.Receipt


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: Decimal


@dataclass(frozen=True)
class Balances:
    paid: int
    bonus: int
    credit_limit: int

    @property
    def available(self) -> int:
        """What can be spent now: paid + bonus + credit."""
        return self.paid + self.bonus + self.credit_limit


def shop() -> Business:
    business = Business.current()
    if business is None:
        raise InvalidTransfer("the business is not set up yet")
    return business


def currency() -> str:
    return shop().currency


def wallets(customer: Customer) -> tuple[Account, Account]:
    unit = currency()
    return (
        ledger.customer_account(customer, Account.Kind.WALLET, unit=unit),
        ledger.customer_account(customer, Account.Kind.BONUS, unit=unit),
    )


def balances(customer: Customer) -> Balances:
    wallet, bonus = wallets(customer)
    return Balances(
        paid=ledger.balance(wallet),
        bonus=ledger.balance(bonus),
        credit_limit=-(wallet.floor or 0),
    )


@transaction.atomic  # a refusal also rolls back the accounts opened on the way
def top_up(
    customer: Customer,
    amount_minor: int,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    bonus_minor: int = 0,
    note: str = "",
) -> Receipt:
    """Money paid by ``method`` goes into the wallet; a bonus, if any, into the bonus
    account, paid for by the store's promotion account."""
    unit = currency()
    wallet, bonus = wallets(customer)
    store = actor.store
    received = ledger.house_account(Account.Kind.PAYMENT, store=store, unit=unit, method=method)
    legs = [ledger.Leg(received, wallet, amount_minor, Transfer.Code.TOP_UP)]
    if bonus_minor:
        promotion = ledger.house_account(Account.Kind.PROMOTION, store=store, unit=unit)
        legs.append(ledger.Leg(promotion, bonus, bonus_minor, Transfer.Code.BONUS))
    request = {
        "top_up": customer.pk,
        "amount": amount_minor,
        "bonus": bonus_minor,
        "method": method.code,
    }
    return ledger.post(
        key,
        legs,
        code=Batch.Code.TOP_UP,
        actor=actor,
        customer=customer,
        note=note,
        request=request,
    )


def split_payment(total: int, paid: int, bonus: int, order: SpendOrder) -> tuple[int, int]:
    """How much of ``total`` comes from the paid balance and how much from the bonus.

    ``order`` is the shop's setting. Proportional splits by the two balances and rounds
    the bonus share half-up, so the two parts always add up to the total, to the cent.
    Whatever the balances cannot cover is taken from the paid balance, into the
    customer's credit; the wallet's floor decides whether that is allowed.
    """
    paid, bonus = max(paid, 0), max(bonus, 0)
    if order == SpendOrder.BONUS_FIRST:
        from_bonus = min(total, bonus)
    elif order == SpendOrder.PAID_FIRST:
        from_bonus = min(total - min(total, paid), bonus)
    elif paid + bonus <= total:
        from_bonus = bonus
    else:
        share = Decimal(total) * bonus / (paid + bonus)
        from_bonus = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total - from_bonus, from_bonus


@transaction.atomic
def sell(
    customer: Customer, lines: Sequence[Line], *, key: str, actor: Actor, note: str = ""
) -> Receipt:
    """Charge the customer's balance for the lines, priced now and snapshotted."""
    unit = currency()
    priced = [(line, price_line(line.product.unit_price, line.quantity, unit)) for line in lines]
    total = sum(amount for _, amount in priced)
    request = {
        "sale": customer.pk,
        "lines": [[line.product.pk, str(line.quantity)] for line in lines],
    }
    if total <= 0:
        raise InvalidTransfer("a sale must cost more than nothing")
    wallet, bonus = wallets(customer)
    order = SpendOrder(shop().spend_order)
    from_paid, from_bonus = split_payment(
        total, ledger.balance(wallet), ledger.balance(bonus), order
    )
    revenue = ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit=unit)
    legs = [
        ledger.Leg(account, revenue, amount, Transfer.Code.SALE)
        for account, amount in ((wallet, from_paid), (bonus, from_bonus))
        if amount
    ]
    receipt = ledger.post(
        key, legs, code=Batch.Code.SALE, actor=actor, customer=customer, note=note, request=request
    )
    if not receipt.replayed:
        _record_lines(receipt.batch, priced)
    return receipt


def _record_lines(batch: Batch, priced: list[tuple[Line, int]]) -> None:
    SaleLine.objects.bulk_create(
        SaleLine(
            batch=batch,
            product=line.product,
            quantity=line.quantity,
            unit_price=line.product.unit_price,
            amount_minor=amount,
        )
        for line, amount in priced
    )


@transaction.atomic
def cash_out(
    customer: Customer,
    amount_minor: int,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    note: str = "",
) -> Receipt:
    """Pay paid money back to the customer; when it empties the wallet, the bonus is
    forfeited to the promotion account in the same batch.

    Only paid money goes back: never bonus, never credit. The wallet row is locked before
    its balance is read, so no sale can slip in between the check and the posting.
    """
    unit = currency()
    wallet, bonus = wallets(customer)
    if not ledger.key_used(key):  # a replay returns the original, whatever the balance now
        paid = max(ledger.balance(ledger.lock(wallet)), 0)
        if amount_minor > paid:
            raise InsufficientFunds(wallet.pk, available=paid, requested=amount_minor)
    paid_out = ledger.house_account(
        Account.Kind.PAYMENT, store=actor.store, unit=unit, method=method
    )
    legs = [ledger.Leg(wallet, paid_out, amount_minor, Transfer.Code.REFUND)]
    bonus_left = ledger.balance(bonus)
    if amount_minor >= ledger.balance(wallet) and bonus_left > 0:
        promotion = ledger.house_account(Account.Kind.PROMOTION, store=actor.store, unit=unit)
        legs.append(ledger.Leg(bonus, promotion, bonus_left, Transfer.Code.FORFEIT))
    request = {"refund": customer.pk, "amount": amount_minor, "method": method.code}
    return ledger.post(
        key,
        legs,
        code=Batch.Code.REFUND,
        actor=actor,
        customer=customer,
        note=note,
        request=request,
    )


@transaction.atomic
def set_credit_limit(customer: Customer, limit_minor: int, *, by: Author) -> None:
    """Let the customer's paid balance go down to minus ``limit_minor``.

    Refused (``CustomerError``) when the balance is already below the new limit: the
    customer must top up first.
    """
    if limit_minor < 0:
        raise CustomerError(_("The credit limit cannot be negative."), field="credit_limit")
    wallet, _bonus = wallets(customer)
    if not ledger.set_floor(wallet, -limit_minor):
        raise CustomerError(
            _("The balance is already below that limit; top up first."), field="credit_limit"
        )
    before = customer.credit_limit_minor
    Customer.objects.filter(pk=customer.pk).update(credit_limit_minor=limit_minor)
    customer.credit_limit_minor = limit_minor
    audit.record(
        "customer.credit_limit",
        f"customer:{customer.code}",
        by=by,
        before={"credit_limit_minor": before},
        after={"credit_limit_minor": limit_minor},
    )


@transaction.atomic
def close_account(customer: Customer, *, by: Author) -> None:
    """Close the account: only at zero, after any money has been refunded or forfeited.

    Cards are revoked with it, so a closed account is never found by a scan again.
    """
    current = balances(customer)
    if current.paid or current.bonus:
        raise CustomerError(_("Refund the balance before closing the account."))
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED)
    customer.status = Customer.Status.CLOSED
    for card in customer.cards.filter(revoked_at__isnull=True):
        customers.revoke_card(card, by=by)
    audit.record("customer.closed", f"customer:{customer.code}", by=by)
