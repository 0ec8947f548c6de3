"""Punch cards and passes as operations: a customer buys one (paid by a payment method),
uses it at the counter or through the API. Each answers the transaction's JSON with the
card or pass, which is also the data of its event. The shop's own postings (a card's
expiry, a pass's price earned when it ends) run as scheduled operations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger.models import Account
from prepaid.ledger.services import Actor
from prepaid.lib import rows
from prepaid.lib.codes import normalize_code
from prepaid.lib.numbers import whole_number
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Operation, run
from prepaid.operations.money import find_customer, find_method, shown
from prepaid.programs import services as programs
from prepaid.programs.models import Package, Pass, PunchCard
from prepaid.sales import expiry
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal


@dataclass(frozen=True)
class BuyPackage(Operation):
    """The customer buys a punch card or a pass of ``package`` (its id), paid by
    ``method``."""

    action: ClassVar[str] = "package.sell"

    customer: str
    package: int
    method: str
    reference: str = ""

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        package = Package.objects.select_related("product").filter(pk=self.package).first()
        if package is None:
            raise Refusal("not_found", field="package", what=_("package"))
        bought = programs.sell_package(
            customer,
            package,
            method=find_method(self.method),
            reference=self.reference,
            key=context.ledger_key,
            actor=context.actor,
        )
        data, posted = shown(context, bought.receipt.batch, customer)
        if bought.time_pass is not None:
            data["punch_card"] = None
            data["pass"] = present.sold_pass(bought.time_pass)
            context.emit("pass.sold", data, customer=customer)
        else:
            assert bought.card is not None
            data["punch_card"] = present.punch_card(bought.card, bought.card.uses)
            context.emit("punch_card.sold", data, customer=customer)
        return Done(data, batch=posted)


@dataclass(frozen=True)
class Redeem(Operation):
    """Use ``quantity`` uses of ``product`` (id or SKU) under the customer's passes,
    then from their punch cards, the soonest-ending first. Answered from what the
    posting returned, without reading it back."""

    action: ClassVar[str] = "redeem"

    customer: str
    product: str
    quantity: int = 1

    def perform(self, context: Context) -> Done:
        currency = context.business.currency
        code = normalize_code(self.customer)
        held = (
            None
            if not code
            else programs.cards_by_code(
                code,
                self.product,
                number=_as_id(self.product),
                now=context.actor.at or timezone.now(),
                store_id=context.actor.store.pk,
                currency=currency,
            )
        )
        if held is not None:  # most redemptions: one statement read and locked it all
            customer, product = held.customer, held.product
            balances = _balances(customer, held.wallet, held.bonus)
            passes = False
        else:
            customer, product, balances, passes = _for_redemption(
                self.customer, self.product, currency
            )
        used = programs.redeem(
            customer,
            product,
            self.quantity,
            key=context.ledger_key,
            actor=context.actor,
            pending=context.pending,
            may_hold_passes=passes,
            held=held,
        )
        data = present.redeemed(used, customer, balances, context.business.currency)
        context.emit("punch_card.redeemed", data, customer=customer)
        return Done(data, batch=used.receipt.batch)


@dataclass(frozen=True)
class RefundPunchCard(Operation):
    """Pay back the uses left on a punch card (where the shop allows it), through
    ``method``, with a reason: a manager's refund."""

    action: ClassVar[str] = "refund"

    card: int
    method: str
    reason: str

    def perform(self, context: Context) -> Done:
        card = PunchCard.objects.select_related("customer", "product").filter(pk=self.card).first()
        if card is None:
            raise Refusal("not_found", what=_("punch card"))
        receipt = programs.refund_card(
            card,
            method=find_method(self.method),
            reason=self.reason,
            key=context.ledger_key,
            actor=context.actor,
        )
        data, posted = shown(context, receipt.batch, card.customer)
        data["punch_card"] = present.punch_card(card, 0)
        context.emit("refund.created", data, customer=card.customer)
        return Done(data, batch=posted)


# The customer, their money balances (a redemption leaves them as they are: the answer
# shows them), the product by id or SKU (an id wins) and whether they hold a pass that
# has not ended (most do not: their redemption skips the passes), in one query.
_FOR_REDEMPTION = (
    "FROM customers_customer c"
    " LEFT JOIN ledger_account w ON w.customer_id = c.id AND w.kind = 'wallet' AND w.unit = %s"
    " LEFT JOIN ledger_account b ON b.customer_id = c.id AND b.kind = 'bonus' AND b.unit = %s"
    " LEFT JOIN catalog_product p ON p.id = %s OR (p.sku = %s AND p.sku <> '')"
    " WHERE c.code = %s ORDER BY CASE WHEN p.id = %s THEN 0 ELSE 1 END"
)
_HELD_IN_FORCE = (
    "EXISTS (SELECT 1 FROM programs_pass x WHERE x.customer_id = c.id AND x.ends_at > %s)"
)


def _for_redemption(
    code: str, reference: str, currency: str
) -> tuple[Customer, Product, sales.Balances, bool]:
    canonical = normalize_code(code)
    number = _as_id(reference)
    found = None
    if canonical:
        found = rows.joined(
            (Customer, "c", False),
            (Account, "w", True),
            (Account, "b", True),
            (Product, "p", True),
            extra=[_HELD_IN_FORCE],
            tail=_FOR_REDEMPTION,
            params=[
                connection.ops.adapt_datetimefield_value(timezone.now()),
                currency,
                currency,
                number,
                reference,
                canonical,
                number,
            ],
        )
    if found is None:
        raise Refusal("not_found", what=_("customer"))
    customer, wallet, bonus, product, holds_pass = found
    assert isinstance(customer, Customer)
    if product is None:
        raise Refusal("unknown_product", field="product", product=reference)
    assert isinstance(product, Product)
    return customer, product, _balances(customer, wallet, bonus), bool(holds_pass)


def _as_id(reference: str) -> int:
    """A product reference as an id (-1: it cannot be one)."""
    number = whole_number(reference)
    return -1 if number is None else number


def _balances(customer: Customer, wallet: Any, bonus: Any) -> sales.Balances:
    return sales.Balances(
        paid=wallet.cached_balance if isinstance(wallet, Account) else 0,
        bonus=bonus.cached_balance if isinstance(bonus, Account) else 0,
        credit_limit=customer.credit_limit_minor,
    )


@dataclass(frozen=True)
class ExpirePunchCard(Operation):
    """Post what is left on a punch card that has ended (``prepaid expire``; the worker
    runs it too). Scheduled: the shop posts it, under a key per card and day."""

    action: ClassVar[str] = "expire"
    scheduled: ClassVar[bool] = True

    card: int

    def perform(self, context: Context) -> Done:
        card = (
            PunchCard.objects.select_related("account", "store", "customer", "product")
            .filter(pk=self.card)
            .first()
        )
        if card is None:
            raise Refusal("not_found", what=_("punch card"))
        receipt = programs.expire(card, key=context.ledger_key, actor=context.actor)
        data, posted = shown(context, receipt.batch, card.customer)
        data["punch_card"] = present.punch_card(card, 0)
        return Done(data, batch=posted)


@dataclass(frozen=True)
class EarnPass(Operation):
    """Make the price of a pass that has ended revenue (``prepaid expire``; the worker
    runs it too). Scheduled, like a punch card's expiry."""

    action: ClassVar[str] = "expire"
    scheduled: ClassVar[bool] = True

    time_pass: int

    def perform(self, context: Context) -> Done:
        found = Pass.objects.select_related("store", "customer").filter(pk=self.time_pass).first()
        if found is None:
            raise Refusal("not_found", what=_("pass"))
        receipt = programs.earn(found, key=context.ledger_key, actor=context.actor)
        data, posted = shown(context, receipt.batch, found.customer)
        return Done(data, batch=posted)


def earn_due(now: datetime | None = None) -> int:
    """Post the price of every pass that has ended as revenue, each under the key
    ``<pass>:<day>`` (once, however often it runs). Answers how many were posted."""
    now = now or timezone.now()
    day = now.date().isoformat()
    earned = 0
    for item in programs.passes_due(now):
        actor = Actor(store=item.store, at=now)
        try:
            run(EarnPass(time_pass=item.pk), actor=actor, scope="earn", key=f"{item.pk}:{day}")
        except Refusal:
            continue  # reversed or earned meanwhile
        earned += 1
    return earned


@dataclass(frozen=True)
class ExpireBalance(Operation):
    """Post the bonus (or paid money, where the rules allow) that has expired on one
    customer account (``prepaid expire``; the worker runs it too). Scheduled."""

    action: ClassVar[str] = "expire"
    scheduled: ClassVar[bool] = True

    account: int

    def perform(self, context: Context) -> Done:
        found = Account.objects.filter(pk=self.account, customer__isnull=False).first()
        if found is None:
            raise Refusal("not_found", what=_("account"))
        receipt = expiry.expire(found, key=context.ledger_key, actor=context.actor)
        customer = receipt.batch.customer
        data, posted = shown(context, receipt.batch, customer)
        return Done(data, batch=posted)


def expire_balances(now: datetime | None = None) -> tuple[int, int]:
    """Post the expired bonus and paid money of every account, each under the key
    ``<account>:<day>`` (once a day, however often it runs). Answers how many accounts
    and how much money (minor units) were posted."""
    now = now or timezone.now()
    day = now.date().isoformat()
    accounts = amount = 0
    for item in expiry.due(now):
        actor = Actor(store=expiry.store_of_last_credit(item.account_id), at=now)
        try:
            run(
                ExpireBalance(account=item.account_id),
                actor=actor,
                scope="expire-balance",
                key=f"{item.account_id}:{day}",
            )
        except Refusal:
            continue  # spent or posted meanwhile
        accounts += 1
        amount += item.amount
    return accounts, amount


def expire_due(now: datetime | None = None) -> tuple[int, int]:
    """Post every card that has ended with uses left, each in its own transaction under
    the key ``<card>:<day>``: run twice (or hourly from cron), a day's expiry is posted
    once. Answers how many cards and uses were posted."""
    now = now or timezone.now()
    day = now.date().isoformat()
    cards = uses = 0
    for card in programs.due(now):
        left = programs.remaining_of(card)
        actor = Actor(store=card.store, at=now)
        try:
            run(ExpirePunchCard(card=card.pk), actor=actor, scope="expire", key=f"{card.pk}:{day}")
        except Refusal:
            continue  # used or reversed meanwhile: nothing left to post
        cards += 1
        uses += left
    return cards, uses
