"""Use cases at the counter: top up, sell, refund (cash out), reverse.

Each composes ``ledger.services.post``/``reverse`` with the shop's rules. The counter,
the API and the CLI call these; none of them builds transfers itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog import services as catalog
from prepaid.catalog.models import Product, TopUpPlan
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.customers.services import Author, CustomerError
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import InsufficientFunds, InvalidTransfer, NotReversible
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib.money import format_money, price_line
from prepaid.sales.models import SaleLine
from prepaid.staff import audit
from prepaid.staff.models import Business, SpendOrder, Staff

Actor = ledger.Actor
Receipt = ledger.Receipt
QUANTUM = Decimal("0.001")  # quantities have at most three decimals (SaleLine.quantity)
PRICE_QUANTUM = Decimal("0.0001")  # unit prices at most four
UNDO_WINDOW = timedelta(minutes=5)
MAX_SALE_MINOR = 10**15  # far beyond any real sale, far below the 64-bit totals' limit


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", Decimal(str(self.quantity)))


@dataclass(frozen=True)
class Sold(ledger.Receipt):
    """A sale's receipt with what the answer needs, so it need not be read back: the
    lines as recorded, and the balances right after (None for a replay)."""

    lines: tuple[SaleLine, ...] = ()
    after: Balances | None = None


@dataclass(frozen=True)
class Balances:
    paid: int
    bonus: int
    credit_limit: int

    @property
    def available(self) -> int:
        """What can be spent now: paid + bonus + credit."""
        return self.paid + self.bonus + self.credit_limit

    @property
    def credit_left(self) -> int:
        """The part of the credit limit not used yet."""
        return max(self.credit_limit + min(self.paid, 0), 0)


class SaleError(ValueError):
    """An operation the shop's rules refuse (below the minimum top-up, a reference
    missing…); the message is translated, ``field`` names what is at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TopUpSpent(SaleError):
    """The top-up's money was spent since: it can no longer be reversed."""


def shop() -> Business:
    business = Business.current()
    if business is None:
        raise InvalidTransfer("the business is not set up yet")
    return business


def currency() -> str:
    return shop().currency


def wallets(customer: Customer, *, unit: str | None = None) -> tuple[Account, Account]:
    """The customer's paid and bonus accounts (one query), opened on first use."""
    return ledger.customer_accounts(customer, unit=unit or currency())


def balances(customer: Customer) -> Balances:
    return _of(*wallets(customer))


def balances_after(receipt: Receipt, customer: Customer) -> Balances:
    """The balances a posting left, without asking the database again when it can."""
    return _of(*wallets(customer), moved=receipt.balances)


def _of(wallet: Account, bonus: Account, *, moved: dict[int, int] | None = None) -> Balances:
    """The balances of these accounts as read, or as ``moved`` (a posting's) left them."""
    moved = moved or {}
    return Balances(
        paid=moved.get(wallet.pk, wallet.cached_balance),
        bonus=moved.get(bonus.pk, bonus.cached_balance),
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
    plan: TopUpPlan | None = None,
    reference: str = "",
    bonus_minor: int | None = None,
    note: str = "",
) -> Receipt:
    """Money paid by ``method`` goes into the wallet; the bonus it earns goes into the
    bonus account, paid for by the store's promotion account.

    1. The shop's rules: the method must be active (and given a reference when it asks
       for one); the amount within the minimum and maximum; a plan paid in full.
    2. The bonus: the plan's, else the best bonus rule's, plus the first-top-up bonus
       for a customer with no top-up yet (not counting reversed ones). ``bonus_minor``
       overrides 1–2 for the import and the demo.
    3. One batch: TOP_UP from the method's house account, BONUS from promotion.
    """
    business = shop()
    unit = business.currency
    reference = reference.strip()
    _check_open(customer)
    wallet, bonus = wallets(customer, unit=unit)
    if bonus_minor is None:
        _check_top_up(business, amount_minor, method=method, plan=plan, reference=reference)
        bonus_minor = catalog.bonus_for(amount_minor, plan=plan)
        if business.first_top_up_bonus_minor and not ledger.key_used(key):
            ledger.lock(wallet)  # two first top-ups at once must not both get it
            if not _has_top_up(customer):
                bonus_minor += business.first_top_up_bonus_minor
    store = actor.store
    received = ledger.house_account(Account.Kind.PAYMENT, store=store, unit=unit, method=method)
    legs = [ledger.Leg(received, wallet, amount_minor, Transfer.Code.TOP_UP)]
    if bonus_minor:
        promotion = ledger.house_account(Account.Kind.PROMOTION, store=store, unit=unit)
        legs.append(ledger.Leg(promotion, bonus, bonus_minor, Transfer.Code.BONUS))
    request = {
        "top_up": customer.pk,
        "amount": amount_minor,
        "method": method.code,
        "plan": plan.pk if plan else None,
        "reference": reference,
    }
    return ledger.post(
        key,
        legs,
        code=Batch.Code.TOP_UP,
        actor=actor,
        customer=customer,
        note=note,
        reference=reference,
        request=request,
    )


def _check_top_up(
    business: Business,
    amount_minor: int,
    *,
    method: PaymentMethod,
    plan: TopUpPlan | None,
    reference: str,
) -> None:
    unit = business.currency
    if not method.active:
        raise SaleError(_("This payment method is not in use."), field="method")
    if method.requires_reference and not reference:
        raise SaleError(
            _("%(method)s needs a reference, such as the slip number.") % {"method": method.label},
            field="reference",
        )
    if plan is not None:
        if not plan.active:
            raise SaleError(_("This top-up plan is not offered any more."), field="plan")
        if amount_minor != plan.amount_minor:
            raise SaleError(
                _("The plan %(plan)s costs %(amount)s.")
                % {"plan": plan.name, "amount": format_money(plan.amount_minor, unit)},
                field="amount",
            )
    if amount_minor <= 0:
        raise SaleError(_("Enter an amount of more than zero."), field="amount")
    smallest, largest = business.top_up_minimum_minor, business.top_up_maximum_minor
    if smallest is not None and amount_minor < smallest:
        raise SaleError(
            _("The smallest top-up is %(amount)s.") % {"amount": format_money(smallest, unit)},
            field="amount",
        )
    if largest is not None and amount_minor > largest:
        raise SaleError(
            _("The largest top-up is %(amount)s.") % {"amount": format_money(largest, unit)},
            field="amount",
        )


def _check_unspent(top_up: Batch) -> None:
    """A top-up can be taken back only while all of it is still there: the credit limit
    may carry a sale, never the reversal of the money that paid for it."""
    for transfer in top_up.transfers.select_related("credit_account"):
        account = ledger.lock(transfer.credit_account)
        if account.is_cached and account.cached_balance < transfer.amount:
            raise TopUpSpent(_("Part of this top-up has been spent; it can no longer be reversed."))


def _check_open(customer: Customer) -> None:
    if customer.status == Customer.Status.CLOSED:
        raise SaleError(_("This account is closed."), field="customer")


def _has_top_up(customer: Customer) -> bool:
    return Batch.objects.filter(
        customer=customer, code=Batch.Code.TOP_UP, reversed_by__isnull=True
    ).exists()


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
) -> Sold:
    """Charge the customer's balance for the lines, priced now and snapshotted.

    The split between paid and bonus money follows the shop's spend order, on the
    balances as read; the posting's guarded updates re-check every floor, so a sale
    beyond the balance and credit is refused (``InsufficientFunds``) with nothing posted.
    """
    business = shop()
    unit = business.currency
    _check_open(customer)
    if not lines:
        raise SaleError(_("Add at least one product."), field="lines")
    for line in lines:
        if line.quantity <= 0 or line.quantity != line.quantity.quantize(QUANTUM):
            raise SaleError(
                _("Enter a quantity of more than zero with at most three decimals."),
                field="quantity",
            )
    priced = [(line, price_line(line.product.unit_price, line.quantity, unit)) for line in lines]
    total = sum(amount for _, amount in priced)
    if total <= 0:
        raise SaleError(_("A sale must cost more than nothing."), field="lines")
    if total >= MAX_SALE_MINOR:
        raise SaleError(_("That sale is too large."), field="lines")
    request = {
        "sale": customer.pk,
        "lines": [[line.product.pk, str(line.quantity)] for line in lines],
    }
    wallet, bonus = wallets(customer, unit=unit)
    order = SpendOrder(business.spend_order)
    from_paid, from_bonus = split_payment(total, wallet.cached_balance, bonus.cached_balance, order)
    revenue = ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit=unit)
    legs = [
        ledger.Leg(account, revenue, amount, Transfer.Code.SALE)
        for account, amount in ((wallet, from_paid), (bonus, from_bonus))
        if amount
    ]
    receipt = ledger.post(
        key, legs, code=Batch.Code.SALE, actor=actor, customer=customer, note=note, request=request
    )
    if receipt.replayed:
        return Sold(receipt.batch, replayed=True)
    return Sold(
        receipt.batch,
        replayed=False,
        balances=receipt.balances,
        legs=receipt.legs,
        lines=_record_lines(receipt.batch, priced),
        after=_of(wallet, bonus, moved=receipt.balances),
    )


def _record_lines(batch: Batch, priced: list[tuple[Line, int]]) -> tuple[SaleLine, ...]:
    return tuple(
        SaleLine.objects.bulk_create(
            SaleLine(
                batch=batch,
                product=line.product,
                quantity=line.quantity.quantize(QUANTUM),
                unit_price=Decimal(line.product.unit_price).quantize(PRICE_QUANTUM),
                amount_minor=amount,
            )
            for line, amount in priced
        )
    )


@transaction.atomic
def cash_out(
    customer: Customer,
    amount_minor: int,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    reason: str,
    reference: str = "",
) -> Receipt:
    """Pay paid money back to the customer (a refund); when it empties the wallet, the
    bonus is forfeited to the promotion account in the same batch.

    Only paid money goes back: never bonus, never credit. The wallet row is locked before
    its balance is read, so no sale can slip in between the check and the posting.
    """
    reason = reason.strip()
    if not reason:
        raise SaleError(_("Give a reason for the refund."), field="reason")
    if amount_minor <= 0:
        raise SaleError(_("Enter an amount of more than zero."), field="amount")
    unit = currency()
    wallet, bonus = wallets(customer, unit=unit)
    if not ledger.key_used(key):  # a replay returns the original, whatever the balance now
        paid = max(ledger.balance(ledger.lock(wallet)), 0)
        if amount_minor > paid:
            raise InsufficientFunds(wallet.pk, available=paid, requested=amount_minor)
    paid_out = ledger.house_account(
        Account.Kind.PAYMENT, store=actor.store, unit=unit, method=method
    )
    legs = [ledger.Leg(wallet, paid_out, amount_minor, Transfer.Code.REFUND)]
    bonus_left = ledger.balance(ledger.lock(bonus))  # no bonus sale between read and forfeit
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
        note=reason,
        reference=reference.strip(),
        request=request,
    )


def may_undo(batch: Batch, staff: Staff, *, now: datetime | None = None) -> bool:
    """The counter's undo: a staff member's own last sale or top-up, within
    ``UNDO_WINDOW``, not reversed yet. Later corrections are a manager's ``reverse``."""
    if batch.code not in (Batch.Code.SALE, Batch.Code.TOP_UP) or batch.staff_id != staff.pk:
        return False
    if (now or timezone.now()) - batch.created_at > UNDO_WINDOW:
        return False
    if Batch.objects.filter(reverses=batch).exists():
        return False
    own = Batch.objects.filter(staff=staff).exclude(code=Batch.Code.REVERSAL).order_by("-id")
    return own.values_list("pk", flat=True).first() == batch.pk


@transaction.atomic
def reverse(batch: Batch, *, key: str, actor: Actor, reason: str) -> Receipt:
    """Undo a sale, top-up or refund once, with a reason, by a linked reversing batch.

    A top-up whose money was spent since cannot be taken back (the bonus or paid
    balance would go below its floor): ``SaleError`` says so, and nothing moves.
    """
    reason = reason.strip()
    if not reason:
        raise SaleError(_("Give a reason for the reversal."), field="reason")
    if batch.code == Batch.Code.TOP_UP and not ledger.key_used(key):
        _check_unspent(batch)
    try:
        receipt = ledger.reverse(batch, key, actor=actor, note=reason)
    except InsufficientFunds:
        if batch.code == Batch.Code.TOP_UP:
            raise TopUpSpent(
                _("Part of this top-up has been spent; it can no longer be reversed.")
            ) from None
        raise
    except NotReversible:
        raise SaleError(_("A reversal cannot be reversed; record a new sale or top-up.")) from None
    if not receipt.replayed:
        audit.record(
            "transaction.reversed",
            f"transaction:{batch.pk}",
            by=actor.staff or actor.api_token,
            store=actor.store,
            after={"reversal": receipt.batch.pk, "reason": reason},
        )
    return receipt


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
