"""One benchmark worker: a process that sets Django up itself, then posts sales.

Two ways to post the same sale (wallet → store revenue, one batch, one transfer):

service
    ``prepaid.ledger.services.post``, as the counter and the API call it.
raw
    The same transaction in hand-written SQL on the same driver connection: insert the
    batch, one guarded UPDATE of the wallet's cached debits (rowcount checked), insert
    the transfer. What remains is the database's own cost.
"""

from __future__ import annotations

import hashlib
import random
import traceback
import uuid
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from time import perf_counter, perf_counter_ns, process_time

from bench.seed import Fixture, setup_django

BARRIER_TIMEOUT = 300.0
MAX_AMOUNT = 1_000

Post = Callable[[int, int, int, str], None]  # (account, customer, amount, key)


@dataclass(frozen=True)
class Case:
    backend: str  # "sqlite" | "postgres"
    path: str  # "raw" | "service"
    accounts: str  # "random" (one of the seeded wallets per sale) | "hot" (always one)
    workers: int


@dataclass
class Outcome:
    """What one worker measured: each sale's latency in ns, and the failures."""

    latencies: array = field(default_factory=lambda: array("q"))
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU: the client side of the sales
    errors: int = 0
    first_error: str = ""


# -- the two ways to post -------------------------------------------------------------


def service_poster(fixture: Fixture) -> Post:
    from prepaid.customers.models import Customer
    from prepaid.ledger import services as ledger
    from prepaid.ledger.models import Account, Batch, Transfer
    from prepaid.staff.models import Staff, Store

    store = Store.objects.get(pk=fixture.store_id)
    actor = ledger.Actor(store=store, staff=Staff.objects.get(pk=fixture.staff_id))
    revenue = Account.objects.get(pk=fixture.revenue_id)

    def post(account_id: int, customer_id: int, amount: int, key: str) -> None:
        wallet = Account(
            id=account_id,
            kind=Account.Kind.WALLET,
            customer_id=customer_id,
            unit=fixture.unit,
            floor=0,
        )
        # A sale's money without its lines (the ledger alone): code adjustment, so that
        # verify does not look for the lines of a sale.
        leg = ledger.Leg(wallet, revenue, amount, Transfer.Code.ADJUSTMENT)
        customer = Customer(id=customer_id, code="")
        ledger.post(key, [leg], code=Batch.Code.ADJUSTMENT, actor=actor, customer=customer)

    return post


def _raw_sql(placeholder: str) -> tuple[str, str, str]:
    values = ", ".join([placeholder] * 10)
    insert_batch = (
        'INSERT INTO ledger_batch ("key", fingerprint, code, store_id, staff_id, api_token_id,'
        " customer_id, reverses_id, transfer_count, note, created_at)"
        f" VALUES ({placeholder}, {values}) RETURNING id"
    )
    debit = (
        f"UPDATE ledger_account SET debits_posted = debits_posted + {placeholder}"
        f" WHERE id = {placeholder} AND credits_posted - debits_posted - {placeholder} >= floor"
        " RETURNING credits_posted - debits_posted"
    )
    insert_transfer = (
        "INSERT INTO ledger_transfer (batch_id, debit_account_id, credit_account_id, amount,"
        " code, reverses_id, store_id, staff_id, api_token_id, created_at, debit_balance_after)"
        f" VALUES ({values}, {placeholder})"
    )
    return insert_batch, debit, insert_transfer


def raw_poster(fixture: Fixture) -> Post:
    from django.db import connection
    from django.utils import timezone

    connection.ensure_connection()
    sqlite = connection.vendor == "sqlite"
    begin = "BEGIN IMMEDIATE" if sqlite else "BEGIN"  # as Django's atomic() does
    insert_batch, debit, insert_transfer = _raw_sql("?" if sqlite else "%s")
    cursor = connection.connection.cursor()
    store, staff, revenue = fixture.store_id, fixture.staff_id, fixture.revenue_id

    def post(account_id: int, customer_id: int, amount: int, key: str) -> None:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        cursor.execute(begin)
        try:
            code = "adjustment"
            batch_row = (key, fingerprint, code, store, staff, None, customer_id, None, 1, "")
            cursor.execute(insert_batch, (*batch_row, now))
            batch_id = cursor.fetchone()[0]
            cursor.execute(debit, (amount, account_id, amount))
            left = cursor.fetchone()
            if left is None:
                raise RuntimeError(f"account {account_id}: insufficient funds")
            transfer = (batch_id, account_id, revenue, amount, code, None, store, staff, None)
            cursor.execute(insert_transfer, (*transfer, now, left[0]))
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    return post


# -- the loop ---------------------------------------------------------------------------


def picker(case: Case, fixture: Fixture, rng: random.Random) -> Callable[[], tuple[int, int]]:
    if case.accounts == "hot":
        hot = (fixture.hot_account_id, fixture.hot_customer_id)
        return lambda: hot
    accounts, customers = fixture.account_ids, fixture.customer_ids

    def pick() -> tuple[int, int]:
        index = rng.randrange(len(accounts))
        return accounts[index], customers[index]

    return pick


def drive(
    post: Post, pick: Callable[[], tuple[int, int]], rng: random.Random, seconds: float
) -> Outcome:
    """Post sales one after the other for ``seconds``, timing each one."""
    outcome = Outcome()
    prefix = f"bench-{uuid.uuid4().hex}"
    number = 0
    start, cpu_start = perf_counter(), process_time()
    deadline = start + seconds
    while perf_counter() < deadline:
        account_id, customer_id = pick()
        amount = rng.randint(1, MAX_AMOUNT)
        number += 1
        began = perf_counter_ns()
        try:
            post(account_id, customer_id, amount, f"{prefix}-{number}")
        except Exception as error:
            outcome.errors += 1
            outcome.first_error = outcome.first_error or repr(error)
            continue
        outcome.latencies.append(perf_counter_ns() - began)
    outcome.seconds = perf_counter() - start
    outcome.cpu_seconds = process_time() - cpu_start
    return outcome


def run(
    env: dict[str, str],
    case: Case,
    fixture: Fixture,
    timing: tuple[float, float],
    barrier: Barrier,
    results: Queue[Outcome],
    index: int,
) -> None:
    """A worker process: set up, wait for all, warm up, wait for all, measure, report."""
    try:
        setup_django(env)
        from django.db import connections

        rng = random.Random(f"{case}-{index}")
        post = service_poster(fixture) if case.path == "service" else raw_poster(fixture)
        pick = picker(case, fixture, rng)
        warmup, duration = timing
        barrier.wait(BARRIER_TIMEOUT)
        drive(post, pick, rng, warmup)
        barrier.wait(BARRIER_TIMEOUT)
        outcome = drive(post, pick, rng, duration)
        connections.close_all()
    except BaseException:
        barrier.abort()
        outcome = Outcome(errors=-1, first_error=traceback.format_exc())
    results.put(outcome)
