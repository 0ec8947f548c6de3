"""The benchmark's database: migrated, seeded with customers, checked afterwards.

Every function here runs in a child process of its own (see ``bench.ledger``), which sets
up Django for one database only: settings read DATABASE_URL once, at import.
"""

from __future__ import annotations

import os
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from prepaid.ledger.models import Account
    from prepaid.staff.models import Staff, Store

UNIT = "USD"
BALANCE = 10**9  # minor units per customer: far more than a few minutes of sales
HOT_BALANCE = 10**13  # the hot account takes every sale of its cases
CHUNK = 5_000


@dataclass(frozen=True)
class Fixture:
    """What a worker needs to post: ids only, so it pickles small and fast."""

    unit: str
    store_id: int
    staff_id: int
    revenue_id: int
    hot_account_id: int
    hot_customer_id: int
    account_ids: array  # the customers' wallets…
    customer_ids: array  # …and their owners, index for index


def setup_django(env: dict[str, str]) -> None:
    """Point this process at the benchmark's database, then set Django up."""
    os.environ.update(env)
    import django

    django.setup()


def customer_code(index: int) -> str:
    """A distinct, valid customer code per index (``2222-2222``, ``2222-2223``…)."""
    from prepaid.lib.codes import CODE_ALPHABET, CODE_GROUP, CODE_LENGTH

    chars = []
    for _ in range(CODE_LENGTH):
        index, digit = divmod(index, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    text = "".join(reversed(chars))
    return f"{text[:CODE_GROUP]}-{text[CODE_GROUP:]}"


def prepare(env: dict[str, str], customers: int) -> Fixture:
    """Migrate an empty database and seed the shop, ``customers`` wallets and a hot one."""
    setup_django(env)
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        store, staff, revenue, opening = _shop()
        accounts = _wallets([BALANCE] * customers + [HOT_BALANCE])
        for chunk in range(0, len(accounts), CHUNK):
            _open(accounts[chunk : chunk + CHUNK], opening, store, staff, chunk)
    settle(connection)
    hot, wallets = accounts[-1], accounts[:-1]
    return Fixture(
        unit=UNIT,
        store_id=store.pk,
        staff_id=staff.pk,
        revenue_id=revenue.pk,
        hot_account_id=hot.pk,
        hot_customer_id=hot.customer_id,
        account_ids=array("q", (account.pk for account in wallets)),
        customer_ids=array("q", (account.customer_id for account in wallets)),
    )


def settle(connection: BaseDatabaseWrapper) -> None:
    """Leave no seeding work behind to land in a measured case: the write-ahead log is
    checkpointed, the new tables vacuumed and analysed (else autovacuum would start)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _shop() -> tuple[Store, Staff, Account, Account]:
    from prepaid.ledger import services as ledger
    from prepaid.ledger.models import Account
    from prepaid.staff.models import Business, Staff, Store

    Business.objects.create(pk=1, name="Bench", currency=UNIT, region="US", time_zone="UTC")
    store = Store.objects.create(name="Bench store")
    staff = Staff.objects.create(name="Bench cashier", role=Staff.Role.CASHIER)
    staff.stores.add(store)
    revenue = ledger.house_account(Account.Kind.REVENUE, store=store, unit=UNIT)
    opening = ledger.house_account(Account.Kind.OPENING, store=store, unit=UNIT)
    return store, staff, revenue, opening


def _wallets(balances: list[int]) -> list[Account]:
    """A customer per balance, each with a wallet already holding it (cached totals)."""
    from prepaid.customers.models import Customer
    from prepaid.ledger.models import Account

    customers = Customer.objects.bulk_create(
        (Customer(code=customer_code(i), name=f"Bench customer {i}") for i in range(len(balances))),
        batch_size=CHUNK,
    )
    return Account.objects.bulk_create(
        (
            Account(
                kind=Account.Kind.WALLET,
                customer_id=customer.pk,
                unit=UNIT,
                floor=0,
                credits_posted=balance,
            )
            for customer, balance in zip(customers, balances, strict=True)
        ),
        batch_size=CHUNK,
    )


def _open(
    accounts: list[Account], opening: Account, store: Store, staff: Staff, number: int
) -> None:
    """One opening batch whose transfers explain the wallets' cached credits."""
    from django.utils import timezone

    from prepaid.ledger.models import Batch, Transfer

    batch = Batch.objects.create(
        key=f"bench-opening-{number}",
        fingerprint="0" * 64,
        code=Batch.Code.OPENING,
        store=store,
        staff=staff,
        transfer_count=len(accounts),
    )
    now = timezone.now()
    Transfer.objects.bulk_create(
        Transfer(
            batch=batch,
            debit_account=opening,
            credit_account_id=account.pk,
            amount=account.credits_posted,
            code=Transfer.Code.OPENING,
            store=store,
            staff=staff,
            created_at=now,
            credit_balance_after=account.credits_posted,  # the wallet's first transfer
        )
        for account in accounts
    )


def check(env: dict[str, str]) -> tuple[int, list[str]]:
    """The number of transfers posted, and the ledger's violations (none expected)."""
    setup_django(env)
    from prepaid.ledger.models import Transfer
    from prepaid.ledger.verify import verify

    return Transfer.objects.count(), [str(violation) for violation in verify()[:5]]
