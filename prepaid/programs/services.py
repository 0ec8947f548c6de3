"""Punch cards: sell one, use its counts, read what a customer holds. Everything posts
through ``ledger.services``, one batch per operation.

Selling a card (``Batch.Code.PACKAGE``)::

    payment:S(method) → deferred:S   price        PACKAGE   (the money, not revenue yet)
    issued:S(card)    → units:C(card) uses        ISSUE     (the counts)

Using counts (``Batch.Code.REDEMPTION``), from the cards of that product that have
counts left and have not expired, the soonest-ending first::

    units:C(card) → issued:S(card)   counts       REDEEM
    deferred:S    → revenue:T        their value  RECOGNISE

What a redemption recognises is what brings the card's revenue so far (its ``PunchUse``
rows whose batch was not reversed) up to ``price − value_left(card, remaining after)``,
where ``value_left`` is ``remaining × (price // uses)`` plus the remainder of the
division while any use is left. So a use is worth 22.72 of a 250.00 card of 11, and the
card used up has recognised exactly its price whatever order its uses and their
reversals came in (a reversal gives back what that redemption recognised). The store's
deferred money is the sum over the cards it sold of price − revenue so far: ``prepaid
verify`` checks it. A card whose uses were redeemed cannot be reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.ledger.services import Actor, Leg, Receipt
from prepaid.lib.transactions import stepped
from prepaid.programs.models import Package, PunchCard, PunchUse, unit_of
from prepaid.sales.services import MAX_SALE_MINOR, check_open, check_payment
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff
from prepaid.staff.refusals import Refusal

MAX_USES = 10_000


@dataclass(frozen=True)
class Holding:
    """A punch card with counts left and its end not reached."""

    card: PunchCard
    remaining: int


@dataclass(frozen=True)
class Bought:
    card: PunchCard
    receipt: Receipt


@dataclass(frozen=True)
class Used:
    """A redemption: how many counts each card gave, and what each holds now."""

    receipt: Receipt
    taken: list[tuple[PunchCard, int, int]]  # card, counts used, counts left


def value_left(card: PunchCard, remaining: int) -> int:
    """What ``remaining`` counts of ``card`` are worth: their share of its price, and the
    remainder of the division until the card is empty."""
    if remaining <= 0:
        return 0
    each, rest = divmod(card.price_minor, card.uses)
    return remaining * each + rest


def recognised(card: PunchCard) -> int:
    """What the card's uses have made revenue so far (those not reversed)."""
    uses = PunchUse.objects.filter(card=card, batch__reversed_by__isnull=True)
    return int(uses.aggregate(total=Sum("value"))["total"] or 0)


def remaining_of(card: PunchCard) -> int:
    account = card.account
    return 0 if account is None else int(account.credits_posted - account.debits_posted)


def cards(customer: Customer) -> QuerySet[PunchCard]:
    """Every card the customer bought, newest first (with their accounts)."""
    return (
        PunchCard.objects.filter(customer=customer, account__isnull=False)
        .select_related("account", "product")
        .order_by("-created_at", "-id")
    )


def holdings(
    customer: Customer, *, now: datetime | None = None, product: Product | None = None
) -> list[Holding]:
    """The customer's cards with counts left and not ended (of ``product``), in the order
    they are used: the soonest-ending first, cards without an end last, older first."""
    now = now or timezone.now()
    found = (
        PunchCard.objects.filter(
            customer=customer, account__credits_posted__gt=F("account__debits_posted")
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("account", "product")
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "id")
    )
    if product is not None:
        found = found.filter(product=product)
    return [Holding(card, remaining_of(card)) for card in found]


def uses_left(held: list[Holding]) -> dict[int, int]:
    """Uses left per product over the cards ``held`` (``holdings``)."""
    left: dict[int, int] = {}
    for holding in held:
        product = holding.card.product_id
        left[product] = left.get(product, 0) + holding.remaining
    return left


@stepped
def sell_package(
    customer: Customer,
    package: Package,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    reference: str = "",
) -> Bought:
    """The customer buys a punch card of ``package``, paid by ``method``."""
    reference = reference.strip()
    check_open(customer)
    if not package.active:
        raise Refusal("package_not_offered", field="package")
    check_payment(method, reference)
    earlier = Batch.objects.filter(key=key, code=Batch.Code.PACKAGE).first()
    if earlier is not None:  # a replay outside the envelope (which answers replays itself)
        return Bought(PunchCard.objects.get(batch=earlier), Receipt(earlier, replayed=True))
    now = actor.at or timezone.now()
    store, currency = actor.store, Business.get().currency
    card = PunchCard.objects.create(
        customer=customer,
        package=package,
        name=package.name,
        product=package.product,
        uses=package.uses,
        price_minor=package.price_minor,
        store=store,
        expires_at=now + timedelta(days=package.valid_days) if package.valid_days else None,
        created_at=now,
    )
    unit = unit_of(card.pk)
    counts = ledger.customer_account(customer, Account.Kind.UNITS, unit=unit)
    issued = ledger.house_account(Account.Kind.ISSUED, store=store, unit=unit)
    legs = [Leg(issued, counts, card.uses, Transfer.Code.ISSUE)]
    if card.price_minor:
        paid = ledger.house_account(Account.Kind.PAYMENT, store=store, unit=currency, method=method)
        deferred = ledger.house_account(Account.Kind.DEFERRED, store=store, unit=currency)
        legs.insert(0, Leg(paid, deferred, card.price_minor, Transfer.Code.PACKAGE))
    request = {
        "package": package.pk,
        "customer": customer.pk,
        "method": method.code,
        "reference": reference,
    }
    receipt = ledger.post(
        key,
        legs,
        code=Batch.Code.PACKAGE,
        actor=actor,
        customer=customer,
        reference=reference,
        request=request,
    )
    card.account, card.batch = counts, receipt.batch
    card.save(update_fields=["account", "batch"])
    return Bought(card, receipt)


@stepped
def redeem(customer: Customer, product: Product, quantity: int, *, key: str, actor: Actor) -> Used:
    """Use ``quantity`` counts of ``product`` from the customer's punch cards, the
    soonest-ending first (one card after the other when one has too few). Refused with
    ``nothing_to_redeem`` when the cards that have not ended hold fewer."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_USES:
        raise Refusal("count_not_valid", field="quantity")
    check_open(customer)
    now = actor.at or timezone.now()
    held = holdings(customer, now=now, product=product)
    # Lock the cards' accounts (in id order, as the ledger does) and read them afresh:
    # the value of a count depends on what is left.
    fresh = {
        account.pk: account
        for account in Account.objects.select_for_update()
        .filter(pk__in=[h.card.account_id for h in held])
        .order_by("pk")
    }
    currency = Business.get().currency
    revenue = ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit=currency)
    legs: list[Leg] = []
    taken: list[tuple[PunchCard, int, int]] = []
    values: list[int] = []
    wanted = quantity
    for holding in held:
        card = holding.card
        account = fresh.get(card.account_id or 0)
        if account is None:
            continue
        left = int(account.credits_posted - account.debits_posted)
        take = min(left, wanted)
        if take <= 0:
            continue
        issued = ledger.house_account(Account.Kind.ISSUED, store=card.store, unit=card.unit)
        legs.append(Leg(account, issued, take, Transfer.Code.REDEEM))
        so_far = recognised(card)
        worth = max(0, min(card.price_minor - value_left(card, left - take) - so_far,
                           card.price_minor - so_far))  # fmt: skip
        if worth:
            deferred = ledger.house_account(Account.Kind.DEFERRED, store=card.store, unit=currency)
            legs.append(Leg(deferred, revenue, worth, Transfer.Code.RECOGNISE))
        taken.append((card, take, left - take))
        values.append(worth)
        wanted -= take
        if not wanted:
            break
    if wanted:
        raise Refusal("nothing_to_redeem", field="product", product=product.name)
    request = {"redeem": customer.pk, "product": product.pk, "quantity": quantity}
    receipt = ledger.post(
        key,
        legs,
        code=Batch.Code.REDEMPTION,
        actor=actor,
        customer=customer,
        request=request,
    )
    if not receipt.replayed:
        PunchUse.objects.bulk_create(
            PunchUse(card=card, batch=receipt.batch, count=count, value=value)
            for (card, count, _left), value in zip(taken, values, strict=True)
        )
    return Used(receipt, taken)


def due(now: datetime | None = None) -> QuerySet[PunchCard]:
    """Cards that have ended with uses left: what ``expire`` posts."""
    now = now or timezone.now()
    return (
        PunchCard.objects.filter(
            expires_at__lte=now, account__credits_posted__gt=F("account__debits_posted")
        )
        .select_related("account", "store", "customer")
        .order_by("expires_at", "id")
    )


@stepped
def expire(card: PunchCard, *, key: str, actor: Actor, now: datetime | None = None) -> Receipt:
    """Post what is left on a card that has ended: its uses back to the store, the money
    paid for them from deferred to breakage (revenue no customer will claim). Nothing
    is dropped silently; a manager's reversal gives the uses back (on a card that has
    ended: they are posted again by the next day's run)."""
    now = now or actor.at or timezone.now()
    if card.account_id is None:
        raise Refusal("nothing_to_redeem", product=card.product.name)
    account = Account.objects.select_for_update().get(pk=card.account_id)
    left = int(account.credits_posted - account.debits_posted)
    if card.expires_at is None or card.expires_at > now or left <= 0:
        raise Refusal("nothing_to_redeem", product=card.product.name)
    currency = Business.get().currency
    issued = ledger.house_account(Account.Kind.ISSUED, store=card.store, unit=card.unit)
    legs = [Leg(account, issued, left, Transfer.Code.EXPIRY)]
    worth = card.price_minor - recognised(card)
    if worth > 0:
        deferred = ledger.house_account(Account.Kind.DEFERRED, store=card.store, unit=currency)
        breakage = ledger.house_account(Account.Kind.BREAKAGE, store=card.store, unit=currency)
        legs.append(Leg(deferred, breakage, worth, Transfer.Code.EXPIRY))
    receipt = ledger.post(
        key,
        legs,
        code=Batch.Code.EXPIRY,
        actor=actor,
        customer=card.customer,
        note=f"punch card {card.pk} ended",
        request={"expire": card.pk, "left": left},
    )
    if not receipt.replayed:
        PunchUse.objects.create(card=card, batch=receipt.batch, count=left, value=max(worth, 0))
    return receipt


@dataclass(frozen=True)
class ReceiptLine:
    """What a transaction did to one punch card: bought (``count`` = its uses) or used
    (``count`` uses, negative when a reversal gave them back), and what it holds now."""

    card: PunchCard
    count: int
    remaining: int


def paid_for(batch: Batch) -> list[tuple[PaymentMethod | None, int]]:
    """What a punch card's sale was paid, by method (transfers prefetched)."""
    return [
        (t.debit_account.payment_method, t.amount)
        for t in batch.transfers.all()
        if t.code == Transfer.Code.PACKAGE
    ]


def receipt_lines(batch: Batch) -> list[ReceiptLine]:
    """The punch cards a transaction moved (a purchase, a use, their reversals)."""
    moved: dict[int, int] = {}
    for transfer in batch.transfers.all():
        for account, sign in ((transfer.credit_account, 1), (transfer.debit_account, -1)):
            if account.kind == Account.Kind.UNITS:
                moved[account.pk] = moved.get(account.pk, 0) + sign * transfer.amount
    if not moved:
        return []
    found = PunchCard.objects.filter(account_id__in=moved).select_related("account", "product")
    return [ReceiptLine(card, moved[card.account_id or 0], remaining_of(card)) for card in found]


# -- the offer ----------------------------------------------------------------------------


def create_package(
    *,
    name: str,
    product: Product,
    count: int,
    price_minor: int,
    valid_days: int | None = None,
    bonus_count: int = 0,
    by: Staff | ApiToken | None,
) -> Package:
    """Offer a new punch card; audited."""
    return save_package(
        None,
        name=name,
        product=product,
        count=count,
        price_minor=price_minor,
        valid_days=valid_days,
        bonus_count=bonus_count,
        by=by,
    )


def save_package(
    package: Package | None,
    *,
    name: str,
    product: Product,
    count: int,
    price_minor: int,
    valid_days: int | None = None,
    bonus_count: int = 0,
    active: bool = True,
    by: Staff | ApiToken | None,
) -> Package:
    """Offer a new punch card, or change one (cards sold keep what they were sold
    with: name, product, uses, price, end); audited, before and after."""
    name = name.strip()
    if not name:
        raise Refusal("validation_error", field="name", detail=_("Enter a name."))
    if not 1 <= count <= MAX_USES or not 0 <= bonus_count <= MAX_USES:
        raise Refusal("count_not_valid", field="count")
    if price_minor < 0:
        raise Refusal("amount_not_positive", field="price")
    if price_minor >= MAX_SALE_MINOR:
        raise Refusal("amount_too_large", field="price")
    if valid_days is not None and not 1 <= valid_days <= 3650:
        raise Refusal(
            "validation_error", field="valid_days", detail=_("Enter 1 to 3650 days, or none.")
        )
    before = None if package is None else _described(package)
    if package is None:
        package = Package(position=Package.objects.count())
    package.name, package.product, package.count = name, product, count
    package.bonus_count, package.price_minor, package.valid_days = (
        bonus_count,
        price_minor,
        valid_days,
    )
    package.active = active
    package.save()
    action = "package.created" if before is None else "package.changed"
    audit.record(action, f"package:{package.pk}", by=by, before=before, after=_described(package))
    return package


def _described(package: Package) -> dict[str, object]:
    return {
        "name": package.name,
        "product": package.product_id,
        "count": package.count,
        "bonus_count": package.bonus_count,
        "price": package.price_minor,
        "valid_days": package.valid_days,
        "active": package.active,
    }


def set_offered(package: Package, offered: bool, *, by: Staff | ApiToken | None) -> None:
    """Offer a package again, or stop offering it (cards already sold keep their uses)."""
    if package.active == offered:
        return
    package.active = offered
    package.save(update_fields=["active"])
    audit.record(
        "package.offered" if offered else "package.withdrawn", f"package:{package.pk}", by=by
    )
