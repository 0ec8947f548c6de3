"""Punch cards as operations: a customer buys one (paid by a payment method), uses its
counts at the counter or through the API. Each answers the transaction's JSON with the
card, which is also the data of its event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Operation, run
from prepaid.operations.money import find_customer, find_method
from prepaid.programs import services as programs
from prepaid.programs.models import Package, PunchCard
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal


@dataclass(frozen=True)
class BuyPackage(Operation):
    """The customer buys a punch card of ``package`` (its id), paid by ``method``."""

    action: ClassVar[str] = "package.sell"

    customer: str
    package: int
    method: str
    reference: str = ""

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        package = Package.objects.select_related("product").filter(pk=self.package).first()
        if package is None:
            raise Refusal("not_found", field="package", what=_("punch card package"))
        bought = programs.sell_package(
            customer,
            package,
            method=find_method(self.method),
            reference=self.reference,
            key=context.ledger_key,
            actor=context.actor,
        )
        card = PunchCard.objects.select_related("account", "product").get(pk=bought.card.pk)
        data = _transaction(context, bought.receipt.batch)
        data["punch_card"] = present.punch_card(card, programs.remaining_of(card))
        context.emit("punch_card.sold", data, customer=customer)
        return Done(data, batch=bought.receipt.batch)


@dataclass(frozen=True)
class Redeem(Operation):
    """Use ``quantity`` counts of ``product`` (id or SKU) from the customer's punch
    cards, the soonest-ending first."""

    action: ClassVar[str] = "redeem"

    customer: str
    product: str
    quantity: int = 1

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        product = _product(self.product)
        used = programs.redeem(
            customer, product, self.quantity, key=context.ledger_key, actor=context.actor
        )
        data = _transaction(context, used.receipt.batch)
        first, _count, _left = used.taken[0]
        card = PunchCard.objects.select_related("account", "product").get(pk=first.pk)
        data["punch_card"] = present.punch_card(card, programs.remaining_of(card))
        data["cards"] = [
            {"id": card.pk, "used": count, "remaining": left} for card, count, left in used.taken
        ]
        held = programs.holdings(customer, product=product)
        data["remaining"] = sum(holding.remaining for holding in held)
        context.emit("punch_card.redeemed", data, customer=customer)
        return Done(data, batch=used.receipt.batch)


def _product(reference: str) -> Product:
    found = None
    if reference.isdigit():
        found = Product.objects.filter(pk=int(reference)).first()
    if found is None:
        found = Product.objects.filter(sku=reference).exclude(sku="").first()
    if found is None:
        raise Refusal("unknown_product", field="product", product=reference)
    return found


def _transaction(context: Context, batch: Batch) -> dict[str, Any]:
    posted = present.batches().get(pk=batch.pk)
    now = sales.balances(posted.customer) if posted.customer is not None else None
    return present.transaction(posted, context.business.currency, now=now)


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
        data = _transaction(context, receipt.batch)
        data["punch_card"] = present.punch_card(card, 0)
        return Done(data, batch=receipt.batch)


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
