"""Punch cards as operations: a customer buys one (paid by a payment method), uses its
counts at the counter or through the API. Each answers the transaction's JSON with the
card, which is also the data of its event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.ledger.services import Actor
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Operation, run
from prepaid.operations.money import find_customer, find_method, shown
from prepaid.programs import services as programs
from prepaid.programs.models import Package, PunchCard
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
        data, posted = shown(context, bought.receipt.batch, customer)
        data["punch_card"] = present.punch_card(bought.card, bought.card.uses)
        context.emit("punch_card.sold", data, customer=customer)
        return Done(data, batch=posted)


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
        data, posted = shown(context, used.receipt.batch, customer)
        first, _count, left = used.taken[0]
        data["punch_card"] = present.punch_card(first, left)
        data["cards"] = [
            {"id": card.pk, "used": count, "remaining": left} for card, count, left in used.taken
        ]
        held = programs.holdings(customer, product=product)
        data["remaining"] = programs.uses_left(held).get(product.pk, 0)
        context.emit("punch_card.redeemed", data, customer=customer)
        return Done(data, batch=posted)


def _product(reference: str) -> Product:
    found = None
    if reference.isdigit():
        found = Product.objects.filter(pk=int(reference)).first()
    if found is None:
        found = Product.objects.filter(sku=reference).exclude(sku="").first()
    if found is None:
        raise Refusal("unknown_product", field="product", product=reference)
    return found


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
