"""What the HTTP benchmark posts: one ``Kind`` per API operation compared with a plain
sale, each a set-up of the shop, a path and a body. A new kind (a sale with a tier
discount, points and a coupon…) is one more entry in ``KINDS``; ``bench.http_sales``
runs, counts and reports every kind the same way.

The set-ups run once per database, in a child process whose Django points at it, after
the ledger benchmark's seed (customers with a wallet) and ``http_sales.prepare_shop``
(bonus accounts, the product, the cashier's token). Whatever they add must leave
``prepaid verify`` clean: the benchmark runs it at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    """An API operation the benchmark posts: ``setup(shop)`` prepares the database once
    (Django set up; None: nothing to add), ``path`` is formatted with the customer's
    ``code``, ``body(shop)`` is the JSON sent. ``goal``: the least rate it must reach as
    a share of a plain sale's (PostgreSQL, random, 4 clients), with the words the target
    line prints; None for the sale itself."""

    name: str
    setup: Callable[[Shop], None] | None
    path: str
    body: Callable[[Shop], dict[str, Any]]
    goal: tuple[float, str] | None = None


def sale_body(shop: Shop) -> dict[str, Any]:
    return {"lines": [{"product": str(shop.product_id), "quantity": "1"}]}


def redemption_body(shop: Shop) -> dict[str, Any]:
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
        # A sale with a tier discount, points earned and a coupon (issue #11) will be
        # Kind("program_sale", <tiers, points rule, a coupon per customer>, the sales
        # path, <lines and the coupon>, goal=(0.85, "Program sale within 15% of a sale")).
    )
}
