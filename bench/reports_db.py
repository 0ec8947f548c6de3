"""The reports benchmark's database: migrated, then a year of ledger loaded fast.

Runs in a child process per engine (Django reads DATABASE_URL once, at import). The
shop (business, five stores with three cashiers and two counters each, six payment
methods, nine products, the house accounts) is made through the ORM; a million
customers, their wallet and bonus accounts and millions of batches, transfers and sale
lines (``bench.reports_ledger``) go in with their ids given, by COPY on PostgreSQL and
prepared INSERTs in big transactions on SQLite. Customers' search columns stay empty:
the reports never search.

Foreign keys are checked once at the end rather than row by row, as ``pg_restore``
does: on PostgreSQL the big tables' foreign keys and indexes are dropped before the
COPY and made again after it (adding a foreign key checks every row in one join;
checking them per row would queue some 70 million trigger events); on SQLite
``PRAGMA foreign_keys`` is off during the load and ``PRAGMA foreign_key_check`` runs
after it. CHECK constraints (floors, positive amounts) and the immutability triggers
judge every row as it goes in. Customer accounts go in last, with the totals their
transfers add up to, so each floor is checked against the final balance.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bench import reports_ledger as generated
from bench.common import reset_sequences, settle, write
from bench.reports_ledger import Chunk, Ledger, Shape, Shop
from bench.seed import customer_code, setup_django

if TYPE_CHECKING:
    pass

BIG_TABLES = (
    "customers_customer",
    "ledger_account",
    "ledger_batch",
    "ledger_transfer",
    "sales_saleline",
)
CHUNK = 100_000


def migrate(env: dict[str, str]) -> None:
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(shape: Shape, *, log: Any = print) -> dict[str, Any]:
    """Fill the migrated, empty database; how long it took and what it holds."""
    from django.db import connection

    began = time.monotonic()
    _tune(connection)
    shop = _shop()
    dropped = _drop_checks(connection)
    _customers(shape)
    stamp = (lambda at: f"{at}+00") if connection.vendor == "postgresql" else str
    ledger = Ledger(shape, shop, stamp)
    for chunk in generated.generate(shape, ledger):
        _chunk(chunk)
        log(f"  … {ledger.transfer_id:,} transfers, {time.monotonic() - began:.0f} s")
    _accounts(shape, shop, ledger)
    loaded = time.monotonic() - began
    log(f"  loaded in {loaded:.0f} s; checking foreign keys, making indexes…")
    _restore_checks(connection, dropped)
    from prepaid.customers.models import Customer
    from prepaid.ledger.models import Account, Batch, Transfer
    from prepaid.sales.models import SaleLine

    reset_sequences([Customer, Account, Batch, Transfer, SaleLine])
    settle(connection)
    counts = _counts(connection)
    assert counts["transfers"] == ledger.transfer_id, counts
    return {"load_seconds": loaded, "seed_seconds": time.monotonic() - began, **counts}


def _tune(connection: Any) -> None:
    """Session settings for a bulk load (nothing here is durable until the end anyway:
    a failed seed is thrown away)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 2")
        else:
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -1000000")  # 1 GB


def _shop() -> Shop:
    """Business, stores, staff, counters, methods, products and house accounts."""
    from django.db import transaction

    from prepaid.catalog.models import Product
    from prepaid.ledger.models import Account, PaymentMethod
    from prepaid.staff.models import Business, Device, Staff, Store

    with transaction.atomic():
        Business.objects.create(
            pk=1,
            name="Bench water",
            currency=generated.CURRENCY,
            region="PH",
            time_zone=generated.TIME_ZONE,
        )
        methods = [
            PaymentMethod.objects.create(code=code, name=name, position=n)
            for n, (code, name, _weight) in enumerate(generated.METHODS)
        ]
        products = [
            Product.objects.create(
                name=name, unit=unit, unit_price=generated.price_text(price), position=n
            ).pk
            for n, (name, unit, price, _quantities, _weight) in enumerate(generated.PRODUCTS)
        ]
        stores = [
            Store.objects.create(name=f"Station {n + 1}")
            for n in range(len(generated.STORE_WEIGHTS))
        ]
        staff_ids, device_ids, payments, revenue, promotion = [], [], [], [], []
        for store in stores:
            cashiers = []
            for n in range(3):
                member = Staff.objects.create(name=f"{store.name} cashier {n + 1}", role="cashier")
                member.stores.add(store)
                cashiers.append(member.pk)
            staff_ids.append(cashiers)
            device_ids.append(
                [
                    Device.objects.create(
                        name=f"Counter {n + 1}", store=store, digest=f"{store.pk}-{n}".ljust(64)
                    ).pk
                    for n in range(2)
                ]
            )
            house = {"store": store, "unit": generated.CURRENCY, "customer": None}
            payments.append(
                [
                    Account.objects.create(kind="payment", payment_method=method, **house).pk
                    for method in methods
                ]
            )
            revenue.append(Account.objects.create(kind="revenue", **house).pk)
            promotion.append(Account.objects.create(kind="promotion", **house).pk)
    return Shop(
        store_ids=[store.pk for store in stores],
        staff_ids=staff_ids,
        device_ids=device_ids,
        payment_accounts=payments,
        revenue_accounts=revenue,
        promotion_accounts=promotion,
        product_ids=products,
        first_account=promotion[-1] + 1,
    )


def _customers(shape: Shape) -> None:
    from django.db import transaction

    from prepaid.customers.models import Customer

    stores = len(generated.STORE_WEIGHTS)
    for start in range(0, shape.customers, CHUNK):
        span = range(start, min(start + CHUNK, shape.customers))
        with transaction.atomic():
            write(
                Customer,
                ("id", "code", "name", "home_store_id"),
                ((i + 1, customer_code(i), f"Customer {i + 1}", 1 + i % stores) for i in span),
            )


def _chunk(chunk: Chunk) -> None:
    from django.db import transaction

    from prepaid.ledger.models import Batch, Transfer
    from prepaid.sales.models import SaleLine

    with transaction.atomic():
        write(Batch, generated.BATCH_COLUMNS, chunk.batches)
        write(Transfer, generated.TRANSFER_COLUMNS, chunk.transfers)
        write(SaleLine, generated.LINE_COLUMNS, chunk.lines)


def _accounts(shape: Shape, shop: Shop, ledger: Ledger) -> None:
    """Every customer's wallet and bonus account, with the totals of their transfers."""
    from django.db import transaction

    from prepaid.ledger.models import Account

    columns = ("id", "kind", "customer_id", "unit", "floor", "debits_posted", "credits_posted")
    for start in range(0, 2 * shape.customers, 2 * CHUNK):
        span = range(start, min(start + 2 * CHUNK, 2 * shape.customers))
        with transaction.atomic():
            write(
                Account,
                columns,
                (
                    (
                        shop.first_account + i,
                        "bonus" if i % 2 else "wallet",
                        i // 2 + 1,
                        generated.CURRENCY,
                        0,
                        ledger.debits[i],
                        ledger.credits[i],
                    )
                    for i in span
                ),
            )


# -- checks dropped during the load, and restored -----------------------------------------

CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
ORDER BY contype DESC, conname
"""
INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""


def _drop_checks(connection: Any) -> dict[str, list[Any]]:
    """PostgreSQL: drop the big tables' foreign keys, unique constraints and indexes
    (their definitions are returned). SQLite: foreign keys off."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("PRAGMA foreign_keys = OFF")
            return {}
        cursor.execute(CONSTRAINTS, [list(BIG_TABLES)])
        constraints = cursor.fetchall()
        cursor.execute(INDEXES, [list(BIG_TABLES)])
        indexes = cursor.fetchall()
        for table, name, _kind, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return {"constraints": constraints, "indexes": indexes}


def _restore_checks(connection: Any, dropped: dict[str, list[Any]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchmany(5)
            assert not broken, f"foreign keys broken: {broken}"
            cursor.execute("PRAGMA foreign_keys = ON")
            return
        for _name, definition in dropped["indexes"]:
            cursor.execute(definition)
        # Unique constraints first: foreign keys may need them.
        for table, name, _kind, definition in dropped["constraints"]:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _counts(connection: Any) -> dict[str, int]:
    tables = {
        "customers": "customers_customer",
        "accounts": "ledger_account",
        "batches": "ledger_batch",
        "transfers": "ledger_transfer",
        "sale_lines": "sales_saleline",
    }
    counts = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[name] = int(cursor.fetchone()[0])
        cursor.execute("SELECT code, count(*) FROM ledger_batch GROUP BY code ORDER BY code")
        counts["batches_by_code"] = {code: int(n) for code, n in cursor.fetchall()}
    return counts


# -- checks of the seeded ledger --------------------------------------------------------

TOTALS = """
WITH moved AS (
    SELECT debit_account_id AS account, amount AS debit, 0 AS credit FROM ledger_transfer
    UNION ALL
    SELECT credit_account_id, 0, amount FROM ledger_transfer
), sums AS (
    SELECT account, SUM(debit) AS debits, SUM(credit) AS credits FROM moved GROUP BY account
)
SELECT count(*) FROM ledger_account a LEFT JOIN sums s ON s.account = a.id
WHERE a.floor IS NOT NULL
  AND (a.debits_posted <> COALESCE(s.debits, 0) OR a.credits_posted <> COALESCE(s.credits, 0))
"""


def check(full: bool) -> dict[str, Any]:
    """The cached totals against the transfers (one query); with ``full``, everything
    ``prepaid verify`` checks (minutes at ten million transfers)."""
    from django.db import connection

    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(TOTALS)
        wrong = int(cursor.fetchone()[0])
    found: dict[str, Any] = {"accounts_with_wrong_totals": wrong}
    if full:
        from prepaid.ledger.verify import verify

        found["violations"] = [str(violation) for violation in verify()[:5]]
    found["check_seconds"] = time.monotonic() - began
    return found
