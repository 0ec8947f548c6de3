"""Punch cards and passes: sell one, use it, read what a customer holds. Everything
posts through ``ledger.services``, one batch per operation.

Selling a card (``Batch.Code.PACKAGE``)::

    payment:S(method) → deferred:S   price        PACKAGE   (the money, not revenue yet)
    issued:S(card)    → units:C(card) uses        ISSUE     (the counts)

Using counts (``Batch.Code.REDEMPTION``), from the cards of that product that have
counts left and have not expired, the soonest-ending first::

    units:C(card) → issued:S(card)   counts       REDEEM
    deferred:S    → revenue:T        their value  RECOGNISE

What a redemption recognises is what brings the card's revenue so far (kept on the card,
``PunchCard.recognised_minor``: its ``PunchUse`` values whose batch was not reversed) up to
``price − value_left(card, remaining after)``,
where ``value_left`` is ``remaining × (price // uses)`` plus the remainder of the
division while any use is left. So a use is worth 22.72 of a 250.00 card of 11, and the
card used up has recognised exactly its price whatever order its uses and their
reversals came in (a reversal gives back what that redemption recognised). The store's
deferred money is the sum over the cards it sold of price − revenue so far: ``prepaid
verify`` checks it. A card whose uses were redeemed cannot be reversed.

A pass (``Package.Kind.TIME``) sells like a card, without counts::

    payment:S(method) → deferred:S   price        PACKAGE

and a use under it counts up its account (``ps<id>``), so a reversal takes it back::

    issued:S(pass) → units:C(pass)   uses         REDEEM

A redemption uses the customer's passes first (soonest-ending first, as far as their
caps allow: uses on the shop's calendar day and its week from Monday, those reversed
not counted), then punch cards. The caps are read under the passes' account row locks,
so two counters cannot both take the last use of a day. When a pass ends, its price
becomes revenue (``earn``: an ``EXPIRY`` transaction the shop posts itself).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.ledger.services import Actor, Leg, Receipt
from prepaid.lib import rows
from prepaid.lib.money import MAX_MINOR
from prepaid.lib.transactions import stepped
from prepaid.programs.models import (
    Package,
    Pass,
    PassUse,
    PunchCard,
    PunchCardProduct,
    PunchUse,
    pass_unit_of,
    unit_of,
)
from prepaid.sales.services import check_open, check_payment
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
class PassHolding:
    """A pass in force, with the uses made under it today and this week."""

    time_pass: Pass
    today: int
    this_week: int
    days_left: int = 0  # calendar days from today to its end, in the shop's zone

    @property
    def left_today(self) -> int | None:
        """Uses it still allows today (None: no cap)."""
        caps = [
            cap - used
            for cap, used in (
                (self.time_pass.max_per_day, self.today),
                (self.time_pass.max_per_week, self.this_week),
            )
            if cap is not None
        ]
        return max(min(caps), 0) if caps else None


@dataclass(frozen=True)
class Bought:
    card: PunchCard | None
    receipt: Receipt
    time_pass: Pass | None = None


@dataclass(frozen=True)
class Used:
    """A redemption: how many uses each pass and card gave, what each card holds now,
    the uses each pass has made today, and the cards' uses left of the product."""

    receipt: Receipt
    taken: list[tuple[PunchCard, int, int]]  # card, counts used, counts left
    passes: list[tuple[Pass, int, int]] = field(default_factory=list)  # pass, used, today
    remaining: int = 0


def value_left(card: PunchCard, remaining: int) -> int:
    """What ``remaining`` counts of ``card`` are worth: their share of its price, and the
    remainder of the division until the card is empty."""
    if remaining <= 0:
        return 0
    each, rest = divmod(card.price_minor, card.uses)
    return remaining * each + rest


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
        found = found.filter(Q(product=product) | Q(also__product=product)).distinct()
    return [Holding(card, remaining_of(card)) for card in found.prefetch_related("also")]


def uses_left(held: list[Holding]) -> dict[int, int]:
    """Uses left per product over the cards ``held`` (``holdings``): a card good for
    several products counts for each of them."""
    left: dict[int, int] = {}
    for holding in held:
        products = {holding.card.product_id, *(x.product_id for x in holding.card.also.all())}
        for product in products:
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
    """The customer buys a punch card or a pass of ``package``, paid by ``method``."""
    reference = reference.strip()
    check_open(customer)
    if not package.active:
        raise Refusal("package_not_offered", field="package")
    check_payment(method, reference)
    earlier = Batch.objects.filter(key=key, code=Batch.Code.PACKAGE).first()
    if earlier is not None:  # a replay outside the envelope (which answers replays itself)
        return Bought(
            PunchCard.objects.filter(batch=earlier).first(),
            Receipt(earlier, replayed=True),
            Pass.objects.filter(batch=earlier).first(),
        )
    now = actor.at or timezone.now()
    request = {
        "package": package.pk,
        "customer": customer.pk,
        "method": method.code,
        "reference": reference,
    }
    if package.is_pass:
        return _sell_pass(customer, package, method, request, key=key, actor=actor, now=now)
    store, currency = actor.store, Business.get().currency
    assert package.product is not None
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
    PunchCardProduct.objects.bulk_create(
        PunchCardProduct(card=card, product=other)
        for other in package.also.all()
        if other.pk != card.product_id
    )
    return Bought(card, receipt)


def _sell_pass(
    customer: Customer,
    package: Package,
    method: PaymentMethod,
    request: dict[str, object],
    *,
    key: str,
    actor: Actor,
    now: datetime,
) -> Bought:
    """A pass from now for the package's days: its price waits in deferred until it
    ends; its account (uses made) is opened now, so the first use has a row to lock."""
    store, currency = actor.store, Business.get().currency
    assert package.valid_days is not None
    time_pass = Pass.objects.create(
        customer=customer,
        package=package,
        name=package.name,
        product=package.product,
        max_per_day=package.max_per_day,
        max_per_week=package.max_per_week,
        price_minor=package.price_minor,
        store=store,
        starts_at=now,
        ends_at=now + timedelta(days=package.valid_days),
        created_at=now,
    )
    uses = ledger.customer_account(customer, Account.Kind.UNITS, unit=pass_unit_of(time_pass.pk))
    paid = ledger.house_account(Account.Kind.PAYMENT, store=store, unit=currency, method=method)
    deferred = ledger.house_account(Account.Kind.DEFERRED, store=store, unit=currency)
    receipt = ledger.post(
        key,
        [Leg(paid, deferred, time_pass.price_minor, Transfer.Code.PACKAGE)],
        code=Batch.Code.PACKAGE,
        actor=actor,
        customer=customer,
        reference=str(request["reference"]),
        request=request,
    )
    time_pass.account, time_pass.batch = uses, receipt.batch
    time_pass.save(update_fields=["account", "batch"])
    return Bought(None, receipt, time_pass)


def pass_used(batch: Batch) -> bool:
    """Whether ``batch`` sold a pass that has been used (uses not reversed): such a sale
    is not taken back (the uses would be free); undo the uses first."""
    return PassUse.objects.filter(time_pass__batch=batch, batch__reversed_by__isnull=True).exists()


def today_and_monday(now: datetime) -> tuple[date, date]:
    """The shop's calendar day at ``now`` and the Monday its week began."""
    day = timezone.localtime(now, zoneinfo.ZoneInfo(Business.get().time_zone)).date()
    return day, day - timedelta(days=day.weekday())


def _passes_in_force(customer: Customer, now: datetime) -> QuerySet[Pass]:
    return (
        Pass.objects.filter(
            customer=customer,
            starts_at__lte=now,
            ends_at__gt=now,
            batch__isnull=False,
            batch__reversed_by__isnull=True,
        )
        .select_related("account", "product")
        .order_by("ends_at", "id")
    )


def _uses_counted(passes: list[Pass], now: datetime) -> dict[int, tuple[int, int]]:
    """Uses made today and this week under each of ``passes`` (those not reversed), in
    one fixed query (it runs in every redemption by pass: no ORM compiling)."""
    if not passes:
        return {}
    day, monday = today_and_monday(now)
    ops = connection.ops
    marks = ", ".join(["%s"] * len(passes))  # placeholders only, never a value
    sql = (
        "SELECT u.time_pass_id, u.day, SUM(u.count) FROM programs_passuse u"  # noqa: S608
        f" WHERE u.time_pass_id IN ({marks}) AND u.day >= %s AND u.day <= %s"
        " AND NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = u.batch_id)"
        " GROUP BY u.time_pass_id, u.day"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *(p.pk for p in passes),
                ops.adapt_datefield_value(monday),
                ops.adapt_datefield_value(day),
            ],
        )
        found = cursor.fetchall()
    counted: dict[int, tuple[int, int]] = {}
    for pass_id, on, total in found:
        on = on if isinstance(on, date) else date.fromisoformat(str(on))
        today, week = counted.get(int(pass_id), (0, 0))
        counted[int(pass_id)] = (today + (int(total) if on == day else 0), week + int(total))
    return counted


def passes(
    customer: Customer, *, now: datetime | None = None, product: Product | None = None
) -> list[PassHolding]:
    """The customer's passes in force (covering ``product``), soonest-ending first, with
    the uses made under them today and this week."""
    now = now or timezone.now()
    found = _passes_in_force(customer, now)
    if product is not None:
        found = found.filter(Q(product__isnull=True) | Q(product=product))
    listed = list(found)
    counted = _uses_counted(listed, now)
    return [
        PassHolding(p, *counted.get(p.pk, (0, 0)), days_left=days_until(p.ends_at, now))
        for p in listed
    ]


def days_until(end: datetime, now: datetime) -> int:
    """Calendar days from ``now``'s day to ``end``'s, in the shop's time zone."""
    zone = zoneinfo.ZoneInfo(Business.get().time_zone)
    return (timezone.localtime(end, zone).date() - timezone.localtime(now, zone).date()).days


def pass_left(held: list[PassHolding], product: Product) -> int | None:
    """Uses of ``product`` the passes ``held`` still allow today: None when one of them
    has no cap, 0 when none covers it."""
    left = 0
    for holding in held:
        if holding.time_pass.product_id not in (None, product.pk):
            continue
        room = holding.left_today
        if room is None:
            return None
        left += room
    return left


# The redemption's reads, as fixed SQL (``prepaid.lib.rows``): compiling them through the
# ORM cost more than the database's work. PostgreSQL locks the rows they return (SQLite's
# IMMEDIATE transaction already holds the one write lock).
_PASSES_IN_FORCE = (
    "FROM programs_pass p JOIN ledger_account a ON a.id = p.account_id"
    " WHERE p.customer_id = %s AND p.starts_at <= %s AND p.ends_at > %s"
    " AND (p.product_id IS NULL OR p.product_id = %s) AND p.batch_id IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = p.batch_id)"
    " ORDER BY p.ends_at, p.id"
)
# With the house accounts a use moves, read in the same query (outer joins: the lock is
# on the card and its account only): the card's issued account, its store's deferred
# money, and the revenue account of the store the use is made at.
_HOUSE = (  # params: the currency, the store the use is made at, the currency
    " LEFT JOIN ledger_account hi ON hi.kind = 'issued' AND hi.store_id = c.store_id"
    " AND hi.unit = 'pc' || c.id AND hi.customer_id IS NULL AND hi.payment_method_id IS NULL"
    " LEFT JOIN ledger_account hd ON hd.kind = 'deferred' AND hd.store_id = c.store_id"
    " AND hd.unit = %s AND hd.customer_id IS NULL AND hd.payment_method_id IS NULL"
    " LEFT JOIN ledger_account hr ON hr.kind = 'revenue' AND hr.store_id = %s"
    " AND hr.unit = %s AND hr.customer_id IS NULL AND hr.payment_method_id IS NULL"
)
_CARD_ORDER = "CASE WHEN c.expires_at IS NULL THEN 1 ELSE 0 END, c.expires_at, c.created_at, c.id"
_CARDS_LEFT = (
    "FROM programs_punchcard c JOIN ledger_account a ON a.id = c.account_id"  # noqa: S608
    + _HOUSE
    + " WHERE c.customer_id = %s AND a.credits_posted > a.debits_posted"
    " AND (c.product_id = %s OR EXISTS (SELECT 1 FROM programs_punchcardproduct x"
    " WHERE x.card_id = c.id AND x.product_id = %s))"
    " AND (c.expires_at IS NULL OR c.expires_at > %s)"
    " ORDER BY " + _CARD_ORDER
)
# A redemption's first and, most often, only read: the customer by code, their money
# balances, the product by id or SKU (an id wins) and the customer's cards of it with
# uses left, locked, with the house accounts a use moves; only while the customer holds
# no pass in force (most do not: a pass is used before the cards, and its lock before
# theirs). No row: a card, the customer or the product is missing, or there is a pass:
# the caller reads them one at a time (``cards_by_code``).
_HELD_BY_CODE = (  # constants only, as every SQL here
    "FROM customers_customer cu"  # noqa: S608
    " JOIN catalog_product p ON p.id = %s OR (p.sku = %s AND p.sku <> '')"
    " JOIN programs_punchcard c ON c.customer_id = cu.id AND (c.product_id = p.id"
    " OR EXISTS (SELECT 1 FROM programs_punchcardproduct x"
    " WHERE x.card_id = c.id AND x.product_id = p.id))"
    " JOIN ledger_account a ON a.id = c.account_id"
    " LEFT JOIN ledger_account w ON w.customer_id = cu.id AND w.kind = 'wallet' AND w.unit = %s"
    " LEFT JOIN ledger_account b ON b.customer_id = cu.id AND b.kind = 'bonus' AND b.unit = %s"
    + _HOUSE
    + " WHERE cu.code = %s AND a.credits_posted > a.debits_posted"
    " AND (c.expires_at IS NULL OR c.expires_at > %s)"
    " AND NOT EXISTS (SELECT 1 FROM programs_pass s WHERE s.customer_id = cu.id"
    " AND s.ends_at > %s)"
    " ORDER BY CASE WHEN p.id = %s THEN 0 ELSE 1 END, " + _CARD_ORDER
)


@dataclass(frozen=True)
class CardsHeld:
    """What ``cards_by_code`` read: the customer, their wallet and bonus accounts (None
    when they have none yet), the product, and their cards of it locked (in the order
    they are used) with the house accounts the uses move."""

    customer: Customer
    wallet: Account | None
    bonus: Account | None
    product: Product
    cards: list[PunchCard]
    house: dict[tuple[str, int, str], Account]


def cards_by_code(
    code: str, reference: str, *, number: int, now: datetime, store_id: int, currency: str
) -> CardsHeld | None:
    """One statement for the common redemption (``_HELD_BY_CODE``): the customer of
    ``code`` and their cards of the product ``reference`` (``number``: it as an id, or
    -1), locked; None when that statement cannot answer alone."""
    moment = connection.ops.adapt_datetimefield_value(now)
    found = rows.joined_all(
        (Customer, "cu", False),
        (Account, "w", True),
        (Account, "b", True),
        (Product, "p", False),
        *_CARD_TABLES,
        extra=[_ALSO_COUNT],
        tail=_locking(_HELD_BY_CODE, "c", "a"),
        params=[
            number,
            reference,
            currency,
            currency,
            currency,
            store_id,
            currency,
            code,
            moment,
            moment,
            number,
        ],
    )
    if not found:
        return None
    customer, wallet, bonus, product = found[0][:4]
    assert isinstance(customer, Customer) and isinstance(product, Product)
    house: dict[tuple[str, int, str], Account] = {}
    cards = []
    for _c, _w, _b, of, card, account, *accounts, also in found:
        if of.pk != product.pk:  # a SKU that is another product's id: the id won
            continue
        cards.append(_held(card, account, product, also, accounts, house))
    return CardsHeld(customer, wallet, bonus, product, cards, house)


def _held(
    card: PunchCard,
    account: Account,
    product: Product,
    also: int,
    accounts: list[Account | None],
    house: dict[tuple[str, int, str], Account],
) -> PunchCard:
    """A card as a lock query read it, with its account, its product when it is the one
    used, an empty ``also`` known without a query, and the house accounts kept."""
    card.account = account
    if card.product_id == product.pk:
        card.product = product
    if not also:  # good for its own product only: known without a query
        card._prefetched_objects_cache = {"also": _none_also()}  # type: ignore[attr-defined]
    for kept in accounts:
        if isinstance(kept, Account):
            house[(kept.kind, int(kept.store_id or 0), kept.unit)] = kept
    return card


def _none_also() -> QuerySet[PunchCardProduct]:
    """An empty ``card.also``, as Django's ``prefetch_related`` leaves a fetched one (its
    result cache filled), so reading it compiles no query."""
    empty = PunchCardProduct.objects.none()
    empty._result_cache = []
    empty._prefetch_done = True  # type: ignore[attr-defined]
    return empty


# A card, its account and the house accounts its uses move, as both lock queries read
# them (``_HOUSE``), for ``_held``.
_CARD_TABLES: tuple[tuple[type[Model], str, bool], ...] = (
    (PunchCard, "c", False),
    (Account, "a", False),
    (Account, "hi", True),
    (Account, "hd", True),
    (Account, "hr", True),
)
# How many more products a card is good for (most: none).
_ALSO_COUNT = "(SELECT COUNT(*) FROM programs_punchcardproduct y WHERE y.card_id = c.id)"


def _locking(tail: str, *aliases: str) -> str:
    if connection.features.has_select_for_update_of:
        return f"{tail} FOR UPDATE OF {', '.join(aliases)}"
    return tail


def _lock_passes(customer: Customer, product: Product, now: datetime) -> list[Pass]:
    """The customer's passes that cover ``product`` now, their accounts locked and read
    afresh: the caps are decided under these locks."""
    moment = connection.ops.adapt_datetimefield_value(now)
    found = []
    for time_pass, account in rows.joined_all(
        (Pass, "p", False),
        (Account, "a", False),
        tail=_locking(_PASSES_IN_FORCE, "a"),
        params=[customer.pk, moment, moment, product.pk],
    ):
        assert isinstance(time_pass, Pass) and isinstance(account, Account)
        time_pass.account = account
        found.append(time_pass)
    return found


def _lock_cards(
    customer: Customer, product: Product, now: datetime, *, store_id: int, currency: str
) -> tuple[list[PunchCard], dict[tuple[str, int, str], Account]]:
    """The customer's cards of ``product`` with counts left and not ended, in the order
    they are used, the cards and their accounts locked and read afresh (what a count is
    worth depends on what is left and what the card has made revenue); and the house
    accounts their uses move that exist already."""
    found = []
    house: dict[tuple[str, int, str], Account] = {}
    for card, account, *accounts, also in rows.joined_all(
        *_CARD_TABLES,
        extra=[_ALSO_COUNT],
        tail=_locking(_CARDS_LEFT, "c", "a"),
        params=[
            currency,
            store_id,
            currency,
            customer.pk,
            product.pk,
            product.pk,
            connection.ops.adapt_datetimefield_value(now),
        ],
    ):
        assert isinstance(card, PunchCard) and isinstance(account, Account)
        found.append(_held(card, account, product, also, accounts, house))
    return found, house


def _house_accounts(wanted: set[tuple[str, int, str]]) -> dict[tuple[str, int, str], Account]:
    """The house accounts (kind, store id, unit) in one query; those missing opened."""
    if not wanted:
        return {}
    ordered = sorted(wanted)
    either = " OR ".join(["(kind = %s AND store_id = %s AND unit = %s)"] * len(ordered))
    found = {
        (a.kind, int(a.store_id or 0), a.unit): a
        for a in rows.many(
            Account,
            f"customer_id IS NULL AND payment_method_id IS NULL AND ({either})",
            [value for key in ordered for value in key],
        )
    }
    for kind, store, unit in wanted - set(found):
        found[(kind, store, unit)], _ = Account.objects.get_or_create(
            kind=kind, store_id=store, unit=unit, customer=None, payment_method=None
        )
    return found


@stepped
def redeem(
    customer: Customer,
    product: Product,
    quantity: int,
    *,
    key: str,
    actor: Actor,
    pending: rows.Pending | None = None,
    may_hold_passes: bool = True,
    held: CardsHeld | None = None,
) -> Used:
    """Use ``quantity`` uses of ``product``: under the customer's passes first (as far as
    their caps allow), then from their punch cards, the soonest-ending first (one after
    the other when one has too few). Refused with ``nothing_to_redeem`` when together
    they cover fewer; nothing is posted then. ``pending``: where the uses go to be
    written with the operation's outcome (the envelope's), instead of at once.
    ``may_hold_passes``: False when the caller knows the customer holds no pass in
    force (its query said so), to spare the passes' look-up. ``held``: the cards
    ``cards_by_code`` read and locked for this redemption (the customer holds no pass
    then), to spare the cards' look-up."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_USES:
        raise Refusal("count_not_valid", field="quantity")
    check_open(customer)
    now = actor.at or timezone.now()
    currency = Business.get().currency
    wanted = quantity
    from_passes: list[tuple[Pass, int, int]] = []
    no_pass = held is not None or not may_hold_passes
    open_passes = [] if no_pass else _lock_passes(customer, product, now)
    counted = _uses_counted(open_passes, now)
    for time_pass in open_passes:
        today, week = counted.get(time_pass.pk, (0, 0))
        room = PassHolding(time_pass, today, week).left_today
        take = wanted if room is None else min(room, wanted)
        if take > 0:
            from_passes.append((time_pass, take, today + take))
            wanted -= take
        if not wanted:
            break
    from_cards: list[tuple[PunchCard, int, int]] = []
    remaining = 0
    cards: list[PunchCard] = []
    known: dict[tuple[str, int, str], Account] = {}
    if held is not None:
        cards, known = held.cards, held.house
    elif wanted:
        cards, known = _lock_cards(
            customer, product, now, store_id=actor.store.pk, currency=currency
        )
    for card in cards:
        account = card.account
        assert account is not None
        left = int(account.credits_posted - account.debits_posted)
        take = min(left, wanted)
        from_cards.append((card, take, left - take))
        remaining += left - take
        wanted -= take
    if wanted:
        raise Refusal("nothing_to_redeem", field="product", product=product.name)
    from_cards = [entry for entry in from_cards if entry[1]]
    if not cards:  # the passes covered it all: the cards' uses left, unlocked
        remaining = uses_left(holdings(customer, now=now, product=product)).get(product.pk, 0)

    store = actor.store.pk
    needs: set[tuple[str, int, str]] = {(Account.Kind.REVENUE, store, currency)}
    needs |= {(Account.Kind.ISSUED, p.store_id, p.unit) for p, _n, _t in from_passes}
    for card, _n, _left in from_cards:
        needs |= {(Account.Kind.ISSUED, card.store_id, card.unit)}
        needs |= {(Account.Kind.DEFERRED, card.store_id, currency)}
    house = {**known, **_house_accounts(needs - set(known))}
    legs: list[Leg] = []
    for time_pass, take, _today in from_passes:
        issued = house[(Account.Kind.ISSUED, time_pass.store_id, time_pass.unit)]
        assert time_pass.account is not None
        legs.append(Leg(issued, time_pass.account, take, Transfer.Code.REDEEM))
    values: list[int] = []
    for card, take, left_after in from_cards:
        assert card.account is not None
        issued = house[(Account.Kind.ISSUED, card.store_id, card.unit)]
        legs.append(Leg(card.account, issued, take, Transfer.Code.REDEEM))
        worth = max(0, card.price_minor - value_left(card, left_after) - card.recognised_minor)
        if worth:
            deferred = house[(Account.Kind.DEFERRED, card.store_id, currency)]
            revenue = house[(Account.Kind.REVENUE, store, currency)]
            legs.append(Leg(deferred, revenue, worth, Transfer.Code.RECOGNISE))
        values.append(worth)
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
        uses: list[PunchUse | PassUse] = [
            PunchUse(card=card, batch=receipt.batch, count=count, value=value)
            for (card, count, _left), value in zip(from_cards, values, strict=True)
        ]
        if from_passes:  # counted on the shop's calendar day
            day, _monday = today_and_monday(now)
            uses += [
                PassUse(time_pass=p, batch=receipt.batch, count=count, day=day)
                for p, count, _today in from_passes
            ]
        writer = pending or rows.Pending()
        writer.add(*uses)
        for (card, _count, _left), value in zip(from_cards, values, strict=True):
            if value:  # with the uses: nothing reads the card's total before they are
                writer.change(_RECOGNISE, [value, card.pk])
        if pending is None:
            writer.flush()
    return Used(receipt, from_cards, from_passes, remaining)


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
    so_far = PunchCard.objects.select_for_update().values_list("recognised_minor", flat=True)
    worth = card.price_minor - so_far.get(pk=card.pk)
    left = int(account.credits_posted - account.debits_posted)
    if card.expires_at is None or card.expires_at > now or left <= 0:
        raise Refusal("nothing_to_redeem", product=card.product.name)
    currency = Business.get().currency
    issued = ledger.house_account(Account.Kind.ISSUED, store=card.store, unit=card.unit)
    legs = [Leg(account, issued, left, Transfer.Code.EXPIRY)]
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
        if worth > 0:
            _recognise(card.pk, worth)
    return receipt


@stepped
def refund_card(
    card: PunchCard, *, method: PaymentMethod, reason: str, key: str, actor: Actor
) -> Receipt:
    """Pay back the uses left on a card that has not ended, where the shop allows it
    (``Business.punch_card_refunds``): what they are worth of the card's price (what the
    store still holds for it) goes out through ``method``; the uses go back to the
    store. A refund, like a cash-out: it shows under refunds by method and in the
    drawer; a reversal of it gives the uses and the money back."""
    reason = reason.strip()
    if not Business.get().punch_card_refunds:
        raise Refusal("card_refund_not_allowed")
    if not reason:
        raise Refusal("reason_required", field="reason")
    check_payment(method, "")
    locked = PunchCard.objects.select_for_update().select_related("store").get(pk=card.pk)
    if locked.account_id is None:
        raise Refusal("nothing_to_refund")
    account = Account.objects.select_for_update().get(pk=locked.account_id)
    now = actor.at or timezone.now()
    left = int(account.credits_posted - account.debits_posted)
    if left <= 0 or (locked.expires_at is not None and locked.expires_at <= now):
        raise Refusal("nothing_to_refund")
    worth = locked.price_minor - locked.recognised_minor
    currency = Business.get().currency
    issued = ledger.house_account(Account.Kind.ISSUED, store=locked.store, unit=locked.unit)
    legs = [Leg(account, issued, left, Transfer.Code.RETURN)]
    if worth > 0:
        deferred = ledger.house_account(Account.Kind.DEFERRED, store=locked.store, unit=currency)
        paid_out = ledger.house_account(
            Account.Kind.PAYMENT, store=actor.store, unit=currency, method=method
        )
        legs.append(Leg(deferred, paid_out, worth, Transfer.Code.REFUND))
    receipt = ledger.post(
        key,
        legs,
        code=Batch.Code.REFUND,
        actor=actor,
        customer=locked.customer,
        note=reason,
        request={"refund_card": locked.pk, "method": method.code, "reason": reason},
    )
    if not receipt.replayed:
        PunchUse.objects.create(card=locked, batch=receipt.batch, count=left, value=max(worth, 0))
        if worth > 0:
            _recognise(locked.pk, worth)
    return receipt


_RECOGNISE = "UPDATE programs_punchcard SET recognised_minor = recognised_minor + %s WHERE id = %s"


def _recognise(card_id: int, amount: int) -> None:
    """Add ``amount`` (negative: give it back) to what the card has made revenue."""
    PunchCard.objects.filter(pk=card_id).update(recognised_minor=F("recognised_minor") + amount)


def give_back_recognised(batch: Batch) -> None:
    """A use or an expiry reversed: what it made revenue is the card's again (registered
    with ``sales.reverse``, in the reversal's transaction)."""
    if batch.code not in (Batch.Code.REDEMPTION, Batch.Code.EXPIRY, Batch.Code.REFUND):
        return
    for use in PunchUse.objects.filter(batch=batch, value__gt=0):
        _recognise(use.card_id, -use.value)


def refuse_used_pass(batch: Batch) -> None:
    """A pass that has been used is not taken back (registered with ``sales.reverse``)."""
    if batch.code == Batch.Code.PACKAGE and pass_used(batch):
        raise Refusal("pass_used")


def passes_due(now: datetime | None = None) -> QuerySet[Pass]:
    """Passes that have ended and whose price is not revenue yet: what ``earn`` posts
    (a reversed sale's money went back; a reversed earning is posted again)."""
    now = now or timezone.now()
    return (
        Pass.objects.filter(ends_at__lte=now, batch__isnull=False, batch__reversed_by__isnull=True)
        .filter(Q(earned__isnull=True) | Q(earned__reversed_by__isnull=False))
        .select_related("store", "customer")
        .order_by("ends_at", "id")
    )


@stepped
def earn(time_pass: Pass, *, key: str, actor: Actor, now: datetime | None = None) -> Receipt:
    """The price of a pass that has ended becomes revenue: from deferred to the store's
    revenue, in an ``EXPIRY`` transaction the shop posts itself."""
    now = now or actor.at or timezone.now()
    locked = Pass.objects.select_for_update(of=("self",)).get(pk=time_pass.pk)
    done = (
        locked.earned_id is not None
        and not Batch.objects.filter(reverses_id=locked.earned_id).exists()
    )
    sold = (
        locked.batch_id is not None
        and not Batch.objects.filter(reverses_id=locked.batch_id).exists()
    )
    if locked.ends_at > now or done or not sold:
        raise Refusal("nothing_to_redeem", product=locked.name)
    currency = Business.get().currency
    deferred = ledger.house_account(Account.Kind.DEFERRED, store=locked.store, unit=currency)
    revenue = ledger.house_account(Account.Kind.REVENUE, store=locked.store, unit=currency)
    receipt = ledger.post(
        key,
        [Leg(deferred, revenue, locked.price_minor, Transfer.Code.EXPIRY)],
        code=Batch.Code.EXPIRY,
        actor=actor,
        customer=locked.customer,
        note=f"pass {locked.pk} ended",
        request={"earn": locked.pk},
    )
    if not receipt.replayed:
        Pass.objects.filter(pk=locked.pk).update(earned=receipt.batch)
    return receipt


@dataclass(frozen=True)
class ReceiptLine:
    """What a transaction did to one punch card: bought (``count`` = its uses) or used
    (``count`` uses, negative when a reversal gave them back), and what it holds now."""

    card: PunchCard
    count: int
    remaining: int


@dataclass(frozen=True)
class PassLine:
    """What a transaction did under one pass: ``count`` uses (negative when a reversal
    took them back; 0 for the sale of the pass), and the pass as it stands now."""

    time_pass: Pass
    count: int
    holding: PassHolding


def paid_for(batch: Batch) -> list[tuple[PaymentMethod | None, int]]:
    """What a punch card's sale was paid, by method (transfers prefetched)."""
    return [
        (t.debit_account.payment_method, t.amount)
        for t in batch.transfers.all()
        if t.code == Transfer.Code.PACKAGE
    ]


def _units_moved(batch: Batch, prefix: str) -> dict[int, int]:
    """What the transaction did to each customer units account whose unit starts with
    ``prefix`` (``pc``: punch cards, ``ps``: passes), by account id (transfers
    prefetched)."""
    moved: dict[int, int] = {}
    for transfer in batch.transfers.all():
        for account, sign in ((transfer.credit_account, 1), (transfer.debit_account, -1)):
            if account.kind == Account.Kind.UNITS and account.unit.startswith(prefix):
                moved[account.pk] = moved.get(account.pk, 0) + sign * transfer.amount
    return moved


def receipt_lines(batch: Batch) -> list[ReceiptLine]:
    """The punch cards a transaction moved (a purchase, a use, their reversals)."""
    moved = _units_moved(batch, "pc")
    if not moved:
        return []
    found = PunchCard.objects.filter(account_id__in=moved).select_related("account", "product")
    return [ReceiptLine(card, moved[card.account_id or 0], remaining_of(card)) for card in found]


def pass_lines(batch: Batch, *, now: datetime | None = None) -> list[PassLine]:
    """The passes a transaction sold or used (or whose use it reversed)."""
    moved = _units_moved(batch, "ps")
    if not moved and batch.code != Batch.Code.PACKAGE:
        return []
    found = list(
        Pass.objects.filter(Q(account_id__in=moved) | Q(batch=batch)).select_related("product")
    )
    counted = _uses_counted(found, now or timezone.now())
    return [
        PassLine(p, moved.get(p.account_id or 0, 0), PassHolding(p, *counted.get(p.pk, (0, 0))))
        for p in found
    ]


# -- the offer ----------------------------------------------------------------------------


def create_package(
    *,
    name: str,
    product: Product | None,
    count: int = 0,
    price_minor: int,
    valid_days: int | None = None,
    bonus_count: int = 0,
    kind: str = Package.Kind.COUNT,
    max_per_day: int | None = None,
    max_per_week: int | None = None,
    also: list[Product] | None = None,
    by: Staff | ApiToken | None,
) -> Package:
    """Offer a new punch card or pass; audited."""
    return save_package(
        None,
        also=also,
        name=name,
        product=product,
        count=count,
        price_minor=price_minor,
        valid_days=valid_days,
        bonus_count=bonus_count,
        kind=kind,
        max_per_day=max_per_day,
        max_per_week=max_per_week,
        by=by,
    )


def save_package(
    package: Package | None,
    *,
    name: str,
    product: Product | None,
    count: int = 0,
    price_minor: int,
    valid_days: int | None = None,
    bonus_count: int = 0,
    kind: str = Package.Kind.COUNT,
    max_per_day: int | None = None,
    max_per_week: int | None = None,
    active: bool = True,
    also: list[Product] | None = None,
    by: Staff | ApiToken | None,
) -> Package:
    """Offer a new punch card or pass, or change one (what was sold keeps what it was
    sold with: name, product, uses or caps, price, end); audited, before and after.
    A pass needs its days and a price; a punch card its product and uses."""
    name = name.strip()
    if not name:
        raise Refusal("validation_error", field="name", detail=_("Enter a name."))
    if kind not in Package.Kind.values:
        raise Refusal("validation_error", field="kind", detail=_("Choose a punch card or a pass."))
    is_pass = kind == Package.Kind.TIME
    if is_pass:
        count = bonus_count = 0
        for field_name, cap in (("max_per_day", max_per_day), ("max_per_week", max_per_week)):
            if cap is not None and not 1 <= cap <= MAX_USES:
                raise Refusal("count_not_valid", field=field_name)
    else:
        max_per_day = max_per_week = None
        if product is None:
            raise Refusal(
                "validation_error", field="product", detail=_("Choose the punch card's product.")
            )
        if not 1 <= count <= MAX_USES or not 0 <= bonus_count <= MAX_USES:
            raise Refusal("count_not_valid", field="count")
    if price_minor < 0 or (is_pass and price_minor == 0):
        raise Refusal("amount_not_positive", field="price")
    if price_minor > MAX_MINOR:
        raise Refusal("amount_too_large", field="price")
    if is_pass and valid_days is None:
        raise Refusal(
            "validation_error", field="valid_days", detail=_("A pass needs its days (1 to 3650).")
        )
    if valid_days is not None and not 1 <= valid_days <= 3650:
        raise Refusal(
            "validation_error", field="valid_days", detail=_("Enter 1 to 3650 days, or none.")
        )
    before = None if package is None else _described(package)
    if package is None:
        package = Package(position=Package.objects.count())
    elif package.kind != kind:
        raise Refusal(
            "validation_error",
            field="kind",
            detail=_("A punch card stays a punch card and a pass a pass: offer a new one."),
        )
    package.kind, package.name, package.product, package.count = kind, name, product, count
    package.bonus_count, package.price_minor, package.valid_days = (
        bonus_count,
        price_minor,
        valid_days,
    )
    package.max_per_day, package.max_per_week = max_per_day, max_per_week
    package.active = active
    package.save()
    if also is not None:
        package.also.set([] if is_pass else [x for x in also if x.pk != package.product_id])
    action = "package.created" if before is None else "package.changed"
    audit.record(action, f"package:{package.pk}", by=by, before=before, after=_described(package))
    return package


def _described(package: Package) -> dict[str, object]:
    return {
        "kind": package.kind,
        "name": package.name,
        "product": package.product_id,
        "count": package.count,
        "bonus_count": package.bonus_count,
        "price": package.price_minor,
        "valid_days": package.valid_days,
        "max_per_day": package.max_per_day,
        "max_per_week": package.max_per_week,
        "also": sorted(x.pk for x in package.also.all()) if package.pk else [],
        "active": package.active,
    }


def set_offered(package: Package, offered: bool, *, by: Staff | ApiToken | None) -> None:
    """Offer a package again, or stop offering it (cards and passes already sold keep
    what they were sold with)."""
    if package.active == offered:
        return
    package.active = offered
    package.save(update_fields=["active"])
    audit.record(
        "package.offered" if offered else "package.withdrawn", f"package:{package.pk}", by=by
    )
