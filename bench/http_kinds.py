"""What the HTTP benchmark posts: one ``Kind`` per API operation compared with a plain
sale, each a set-up of the shop, a path and a body. A new kind is one more entry in
``KINDS``; ``bench.http_sales`` runs, counts and reports every kind the same way.

The set-ups run once per database, in a child process whose Django points at it, after
the ledger benchmark's seed (customers with a wallet) and ``http_sales.prepare_shop``
(bonus accounts, the product, the cashier's token), all before the first case: what one
adds is there during every kind's cases, so it must leave the others as they were (the
program sale's tiers are its own customers'; its points rate earns nothing on a plain
sale of 0.01). Whatever they add must leave ``prepaid verify`` clean: the benchmark
runs it at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any

from bench import common, seed

if TYPE_CHECKING:
    from django.db.models import Model

    from bench.http_sales import Shop

# Uses on each benchmark customer's punch card: far more than any run redeems, even from
# the hot customer's card (the back office sells at most 10,000; these cards are written
# directly, so nothing stops a bigger one). At 0.01 a use (the price of the product a
# sale sells), each redemption recognises 0.01 of deferred money as revenue, as it would
# on a paid card: a free card would leave out the RECOGNISE transfer.
CARD_USES = 1_000_000
CARD_PRICE_MINOR = CARD_USES  # 0.01 a use


@dataclass(frozen=True)
class Kind:
    """An API operation the benchmark posts.

    ``setup(shop)`` prepares the database once (Django set up; None: nothing to add) and
    answers the kind's own shop, if it differs (its customers, what its bodies need in
    ``Shop.extra``), else None. ``path`` is formatted with the customer's ``code``.
    ``body(shop, slot, count)`` is the JSON of a client's ``count``-th request (from 0):
    ``slot`` is the client process's own number in the run (``Shop.slots``), so a body
    may take something no other request takes (a coupon). ``check(answer)``: what is
    wrong with the first counted request's JSON answer (nothing: an empty list).
    ``goal``: the least rate it must reach as a share of a plain sale's (PostgreSQL,
    random, 4 clients), with the words the target line prints; None for the sale."""

    name: str
    setup: Callable[[Shop], Shop | None] | None
    path: str
    body: Callable[[Shop, int, int], dict[str, Any]]
    goal: tuple[float, str] | None = None
    check: Callable[[dict[str, Any]], list[str]] | None = None


def sale_body(shop: Shop, slot: int, count: int) -> dict[str, Any]:
    return {"lines": [{"product": str(shop.product_id), "quantity": "1"}]}


def redemption_body(shop: Shop, slot: int, count: int) -> dict[str, Any]:
    return {"product": shop.product_id, "quantity": 1}


def give_punch_cards(shop: Shop) -> None:
    """Every customer (the hot one too) has bought a punch card of ``CARD_USES`` uses of
    the shop's product for ``CARD_PRICE_MINOR``, paid in cash: the rows
    ``programs.services.sell_package`` leaves, written in bulk (COPY on PostgreSQL) —
    100,000 sales through the service would take minutes. Per card: the card, its UNITS
    account (unit ``pc<id>``, credits = uses, floor 0), the store's ISSUED account of
    that unit, a PACKAGE batch of two transfers (payment:cash → deferred, the price;
    issued → units, the uses, leaving the units account at its uses). The cash and
    deferred house accounts are the store's, one each. Ids are given, then the sequences
    moved past them."""
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from prepaid.customers.models import Customer
    from prepaid.ledger import services as ledger
    from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
    from prepaid.programs.models import Package, PunchCard, unit_of
    from prepaid.staff.models import Staff, Store

    def first_free_id(model: type[Model]) -> int:
        return int(model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    with transaction.atomic():
        store = Store.objects.get()
        staff = Staff.objects.filter(role=Staff.Role.CASHIER).order_by("pk").first()
        assert staff is not None, "the seed's cashier is missing"
        method, _ = PaymentMethod.objects.get_or_create(code="cash", defaults={"name": "Cash"})
        paid = ledger.house_account(
            Account.Kind.PAYMENT, store=store, unit=seed.UNIT, method=method
        )
        deferred = ledger.house_account(Account.Kind.DEFERRED, store=store, unit=seed.UNIT)
        package = Package.objects.create(
            name="Bench refills",
            product_id=shop.product_id,
            count=CARD_USES,
            price_minor=CARD_PRICE_MINOR,
        )
        customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        count = len(customers)
        card0, account0, batch0, transfer0 = (
            first_free_id(model) for model in (PunchCard, Account, Batch, Transfer)
        )
        now = Account._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)

        def units(i: int) -> int:
            return account0 + i

        def issued(i: int) -> int:
            return account0 + count + i

        common.write(
            Account,
            ("id", "kind", "customer_id", "store_id", "unit", "credits_posted", "floor"),
            [
                *(
                    (units(i), "units", customer, None, unit_of(card0 + i), CARD_USES, 0)
                    for i, customer in enumerate(customers)
                ),
                *(
                    (issued(i), "issued", None, store.pk, unit_of(card0 + i), 0, None)
                    for i in range(count)
                ),
            ],
        )
        sold = {"store_id": store.pk, "staff_id": staff.pk, "created_at": now}
        batches = (
            {
                "id": batch0 + i,
                "key": f"bench-card-{card0 + i}",
                "fingerprint": "0" * 64,
                "code": "package",
                "customer_id": customer,
                "transfer_count": 2,
                **sold,
            }
            for i, customer in enumerate(customers)
        )
        cards = (
            {
                "id": card0 + i,
                "customer_id": customer,
                "package_id": package.pk,
                "name": package.name,
                "product_id": shop.product_id,
                "uses": CARD_USES,
                "price_minor": CARD_PRICE_MINOR,
                "account_id": units(i),
                "batch_id": batch0 + i,
                "store_id": store.pk,
                "created_at": now,
            }
            for i, customer in enumerate(customers)
        )
        transfers = (
            transfer
            for i in range(count)
            for transfer in (
                {
                    "id": transfer0 + 2 * i,
                    "batch_id": batch0 + i,
                    "debit_account_id": paid.pk,
                    "credit_account_id": deferred.pk,
                    "amount": CARD_PRICE_MINOR,
                    "code": "package",
                    "credit_balance_after": None,  # house accounts keep no balance
                    **sold,
                },
                {
                    "id": transfer0 + 2 * i + 1,
                    "batch_id": batch0 + i,
                    "debit_account_id": issued(i),
                    "credit_account_id": units(i),
                    "amount": CARD_USES,
                    "code": "issue",
                    "credit_balance_after": CARD_USES,  # the card's first transfer
                    **sold,
                },
            )
        )
        for model, rows in ((Batch, batches), (PunchCard, cards), (Transfer, transfers)):
            write_dicts(model, rows)
        common.reset_sequences([Account, Batch, PunchCard, Transfer])
    seed.settle(connection)


def write_dicts(model: type[Model], rows: Iterator[dict[str, Any]]) -> None:
    """``common.write`` of rows given as dicts (column: value), all with the same keys."""
    first = next(rows, None)
    if first is None:
        return
    columns = tuple(first)
    common.write(model, columns, (tuple(row[c] for c in columns) for row in chain([first], rows)))


# The program sale (issue #11): a member of a tier taking a coupon and earning points.
# Its customers are members of their own, registered beside the seeded ones: a tier
# member's every sale reads the tier, so the plain sale's customers stay out of it; and
# the worker's daily tier review, which adds up every member's deposits when it starts
# (a fresh server each case), stays a second's work in the warm-up.
MEMBERS = 1_000
PROGRAM_PRICE = Decimal("25.00")  # a 5-gallon refill: room for both discounts
TIER_DISCOUNT_BP = 500  # Gold: 5% off what the coupon leaves
TIER_THRESHOLD_MINOR = 100  # deposits of 1.00 make a member Gold
COUPON_OFF_MINOR = 200  # 2.00 off: 25.00 − 2.00 − 5% = 21.85 charged
# A point per 1.00 of paid money spent (21 a program sale); a plain sale of 0.01 earns
# none, so it stays a plain sale (no points leg) though the setting is the shop's.
POINTS_EVERY_MINOR = 100
POINT_VALUE_MINOR = 1
# Coupon codes: customer-code-like (``lib.codes``), the k-th starting from this index
# (codes starting with P, for "promo"; distinct from every benchmark customer's).
COUPON_FIRST = 20 * 31**7


def members_first(shop: Shop) -> int:
    """The index (``seed.customer_code``) of the first member: after the seeded
    customers and the hot one."""
    return shop.customers + 1


def coupon_code(index: int) -> str:
    return seed.customer_code(COUPON_FIRST + index)


def coupons_needed(shop: Shop) -> int:
    return shop.slots * shop.per_slot


def make_members(shop: Shop) -> Shop:
    """The program sale's shop: a Gold tier (5% off from 1.00 deposited); points on (a
    point per 1.00 of paid money, worth 0.01); a product of 25.00; ``MEMBERS`` customers
    (at most as many as the seed's) and a hot one of their own, each topped up through
    ``sales.top_up`` (which moves them up to Gold, as a deposit that crosses the
    threshold does: audited, in their timeline) and holding a points account (as
    every member who earned before does); and ``coupons_needed`` single-use coupons of
    2.00 off, written in bulk (COPY on PostgreSQL), so every request of the run takes
    one of its own (``program_sale_body``): taking one locks its row and counts its
    uses, which is the cost to measure (one coupon shared by all would be a hot row no
    shop has)."""
    from django.db import connection, transaction

    from prepaid.catalog import tiers
    from prepaid.catalog.models import Product
    from prepaid.coupons.models import Coupon
    from prepaid.customers.models import Customer
    from prepaid.ledger import services as ledger
    from prepaid.ledger.models import Account, PaymentMethod
    from prepaid.sales import points
    from prepaid.sales import services as sales
    from prepaid.staff.models import Business, Staff, Store

    count = min(MEMBERS, shop.customers)
    first = members_first(shop)
    with transaction.atomic():
        store = Store.objects.get()
        staff = Staff.objects.filter(role=Staff.Role.CASHIER).order_by("pk").first()
        assert staff is not None, "the seed's cashier is missing"
        Business.objects.filter(pk=1).update(
            points_every_minor=POINTS_EVERY_MINOR, point_value_minor=POINT_VALUE_MINOR
        )
        tiers.save_tier(
            None,
            name="Gold",
            threshold_minor=TIER_THRESHOLD_MINOR,
            discount_bp=TIER_DISCOUNT_BP,
            bonus_multiplier=Decimal(1),
            by=None,
        )
        product = Product.objects.create(
            name="5-gallon refill", unit="piece", unit_price=PROGRAM_PRICE
        )
        method, _ = PaymentMethod.objects.get_or_create(code="cash", defaults={"name": "Cash"})
        actor = ledger.Actor(store=store, staff=staff)
        customers = Customer.objects.bulk_create(
            Customer(code=seed.customer_code(first + i), name=f"Bench member {i}")
            for i in range(count + 1)
        )
        for i, customer in enumerate(customers):
            amount = seed.HOT_BALANCE if i == count else seed.BALANCE
            sales.top_up(customer, amount, method=method, key=f"bench-member-{i}", actor=actor)
            points.account(customer)
        ledger.house_account(Account.Kind.ISSUED, store=store, unit=points.UNIT)
        common.write(
            Coupon,
            ("code", "kind", "value", "series"),
            (
                (coupon_code(i), "amount", COUPON_OFF_MINOR, "bench")
                for i in range(coupons_needed(shop))
            ),
        )
    seed.settle(connection)
    return replace(
        shop,
        first=first,
        customers=count,
        hot_code=seed.customer_code(first + count),
        extra={"product_id": product.pk},
    )


def program_sale_body(shop: Shop, slot: int, count: int) -> dict[str, Any]:
    """A sale of the 25.00 refill with the ``count``-th coupon of the client's slot (one
    past the last coupon written when the slot is spent: refused, so counted as not
    201 rather than taking a coupon another request took)."""
    index = slot * shop.per_slot + count if count < shop.per_slot else coupons_needed(shop)
    lines = [{"product": str(shop.extra["product_id"]), "quantity": "1"}]
    return {"lines": lines, "coupon": coupon_code(index)}


def program_sale_check(answer: dict[str, Any]) -> list[str]:
    """A program sale's answer shows the three programs at work."""
    problems = []
    if Decimal(answer.get("discount") or "0") <= 0:
        problems.append(f"no discount ({answer.get('discount')!r})")
    if not any(Decimal(line.get("tier_discount", "0")) > 0 for line in answer.get("lines", [])):
        problems.append("no tier discount on any line")
    if not (answer.get("points_earned") or 0) > 0:
        problems.append(f"no points earned ({answer.get('points_earned')!r})")
    if not answer.get("coupon"):
        problems.append("no coupon")
    return problems


SALE = Kind("sale", None, "/api/v1/customers/{code}/sales", sale_body)
KINDS = {
    kind.name: kind
    for kind in (
        SALE,
        Kind(
            "redemption",
            give_punch_cards,
            "/api/v1/customers/{code}/redemptions",
            redemption_body,
            goal=(1.0, "Redemption at least as fast as a sale"),
        ),
        Kind(
            "program_sale",
            make_members,
            SALE.path,
            program_sale_body,
            goal=(0.85, "Sale with tier, points and coupon within 15% of a plain sale"),
            check=program_sale_check,
        ),
    )
}
