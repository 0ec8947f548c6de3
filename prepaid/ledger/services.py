"""The only code that writes money.

``post`` appends a batch of transfers exactly once; ``reverse`` undoes a batch by a new,
linked batch of opposite transfers. Everything else in prepaid composes these two.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Model, Sum, Value
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    NotReversible,
)
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib import bulk, rows
from prepaid.staff.models import ApiToken, Staff, Store

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Leg:
    """One transfer to post: ``amount`` moves from ``debit`` to ``credit``."""

    debit: Account
    credit: Account
    amount: int
    code: Transfer.Code
    reverses: Transfer | None = None


@dataclass(frozen=True)
class Actor:
    """Who posts, where and when: every transfer carries its store and its staff or token.

    ``at`` back-dates a posting for imports and the demo; the counter and the API leave it
    unset, so the database's clock of the posting is now.
    """

    store: Store
    staff: Staff | None = None
    api_token: ApiToken | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Receipt:
    """A posted batch; ``replayed`` is True when the key had been posted before.

    ``balances`` holds the new balance of each customer account the batch moved, by
    account id, as the posting left it (empty for a replay: read them afresh).
    """

    batch: Batch
    replayed: bool
    balances: dict[int, int] = field(default_factory=dict)
    legs: tuple[Leg, ...] = ()  # what was posted (empty for a replay)


# -- accounts ---------------------------------------------------------------------------


def customer_account(customer: Customer, kind: Account.Kind, *, unit: str) -> Account:
    """The customer's account of that kind, opened on first use.

    The wallet's floor is minus the customer's credit limit; every other customer account
    floors at zero.
    """
    floor = -customer.credit_limit_minor if kind == Account.Kind.WALLET else 0
    account, _ = Account.objects.get_or_create(
        kind=kind, customer=customer, unit=unit, defaults={"floor": floor}
    )
    return account


def customer_accounts(customer: Customer, *, unit: str) -> tuple[Account, Account]:
    """The customer's wallet and bonus account in one query, opening what is missing."""
    wallet_kind, bonus_kind = Account.CUSTOMER_KINDS
    where = "customer_id = %s AND unit = %s AND kind IN (%s, %s)"
    found = {
        account.kind: account
        for account in rows.many(
            Account, where, [customer.pk, unit, str(wallet_kind), str(bonus_kind)]
        )
    }
    wallet = found.get(Account.Kind.WALLET) or customer_account(
        customer, Account.Kind.WALLET, unit=unit
    )
    bonus = found.get(Account.Kind.BONUS) or customer_account(
        customer, Account.Kind.BONUS, unit=unit
    )
    return wallet, bonus


def house_account(
    kind: Account.Kind, *, store: Store, unit: str, method: PaymentMethod | None = None
) -> Account:
    """A store's house account (payments per method, revenue, promotion…)."""
    method_is = "payment_method_id IS NULL" if method is None else "payment_method_id = %s"
    found = rows.one(
        Account,
        f"kind = %s AND store_id = %s AND {method_is} AND customer_id IS NULL AND unit = %s",
        [str(kind), store.pk, *([] if method is None else [method.pk]), unit],
    )
    if found is not None:
        return found
    account, _ = Account.objects.get_or_create(
        kind=kind, store=store, payment_method=method, customer=None, unit=unit
    )
    return account


def balance(account: Account) -> int:
    """credits − debits, fresh from the database.

    Cached accounts read their totals; house accounts sum their transfers.
    """
    if account.is_cached:
        row = Account.objects.filter(pk=account.pk).values("credits_posted", "debits_posted")
        totals = row.get()
        return int(totals["credits_posted"] - totals["debits_posted"])
    credits = Transfer.objects.filter(credit_account=account).aggregate(total=Sum("amount"))
    debits = Transfer.objects.filter(debit_account=account).aggregate(total=Sum("amount"))
    return int((credits["total"] or 0) - (debits["total"] or 0))


def lock(account: Account) -> Account:
    """The account re-read under a row lock held to the end of the transaction.

    For a rule stricter than the floor (a cash-out may not use credit): read, decide and
    post while no one else can move the account. SQLite's IMMEDIATE transactions already
    hold the database's write lock.
    """
    return Account.objects.select_for_update().get(pk=account.pk)


def set_floor(account: Account, floor: int) -> bool:
    """Move a customer account's floor (a credit limit change), unless the balance is
    already below the new floor: then nothing changes and the answer is False."""
    if not account.is_cached:
        raise InvalidTransfer("house accounts have no floor")
    moved = Account.objects.filter(
        pk=account.pk, credits_posted__gte=F("debits_posted") + Value(floor)
    ).update(floor=floor)
    return moved == 1


def key_used(key: str) -> bool:
    return Batch.objects.filter(key=key).exists()


# -- posting ------------------------------------------------------------------------------


def fingerprint_of(request: object) -> str:
    """A digest of whatever describes the request (JSON-serialisable)."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _describe(legs: Sequence[Leg], code: Batch.Code, customer: Customer | None) -> object:
    return {
        "code": str(code),
        "customer": customer.pk if customer else None,
        "legs": [[leg.debit.pk, leg.credit.pk, leg.amount, str(leg.code)] for leg in legs],
    }


def _check(key: str, legs: Sequence[Leg]) -> None:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidTransfer(f"the key must have 1 to {MAX_KEY_LENGTH} characters")
    if not legs:
        raise InvalidTransfer("a batch needs at least one transfer")
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount <= 0:
            raise InvalidTransfer(f"amount must be a positive integer, not {leg.amount!r}")
        if leg.debit.pk == leg.credit.pk:
            raise InvalidTransfer("a transfer needs two different accounts")
        if leg.debit.unit != leg.credit.unit:
            raise InvalidTransfer(f"cannot move {leg.debit.unit} into {leg.credit.unit}")


def _replay(key: str, fingerprint: str) -> Receipt | None:
    existing = Batch.objects.filter(key=key).first()
    if existing is None:
        return None
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(key)
    return Receipt(existing, replayed=True)


# The hot path of every sale is three statements. They are written as fixed SQL rather
# than through the ORM, which spent about 3.8 ms of Python per posting building and
# compiling them (profile: bench/README.md), three times the database's own work. The
# model's constraints and triggers still check every row these statements write.

INSERT_BATCH = (
    'INSERT INTO ledger_batch ("key", fingerprint, code, store_id, staff_id, api_token_id,'
    " customer_id, reverses_id, transfer_count, note, reference, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
MOVE_TOTALS = (
    "UPDATE ledger_account SET debits_posted = debits_posted + %s,"
    " credits_posted = credits_posted + %s"
    ' WHERE id = %s AND credits_posted - debits_posted >= "floor" + %s'
    " RETURNING credits_posted - debits_posted"
)
INSERT_TRANSFER = (
    "INSERT INTO ledger_transfer (batch_id, debit_account_id, credit_account_id, amount, code,"
    " reverses_id, store_id, staff_id, api_token_id, created_at) VALUES "
)
TRANSFER_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _move_cached_totals(cursor: CursorWrapper, legs: Sequence[Leg]) -> dict[int, int]:
    """Add the batch's debits and credits to its customer accounts, floors permitting.

    1. Net the batch per account, so an account touched twice is updated once.
    2. Visit accounts in id order: concurrent batches lock rows in the same order and
       cannot deadlock.
    3. One guarded UPDATE per account: the WHERE clause re-checks the floor against the
       row as it is now, under the row lock, so two sales can never both spend the same
       money. Zero rows updated means the floor would be crossed; otherwise the row
       returns the account's new balance.
    """
    moves: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for leg in legs:
        if leg.debit.is_cached:
            moves[leg.debit.pk][0] += leg.amount
        if leg.credit.is_cached:
            moves[leg.credit.pk][1] += leg.amount
    balances = {}
    for account_id in sorted(moves):
        debit, credit = moves[account_id]
        cursor.execute(MOVE_TOTALS, [debit, credit, account_id, debit - credit])
        row = cursor.fetchone()
        if row is None:
            account = Account.objects.get(pk=account_id)
            available = account.cached_balance - (account.floor or 0)
            raise InsufficientFunds(account_id, available=available, requested=debit - credit)
        balances[account_id] = int(row[0])
    return balances


def _append(
    cursor: CursorWrapper, batch: Batch, legs: Sequence[Leg], actor: Actor
) -> dict[int, int]:
    """Insert the batch row, move the totals, insert the transfers: one transaction.
    Returns the new balances of the customer accounts moved."""
    at = connection.ops.adapt_datetimefield_value(batch.created_at)
    cursor.execute(
        INSERT_BATCH,
        [
            batch.key,
            batch.fingerprint,
            batch.code,
            actor.store.pk,
            _pk(actor.staff),
            _pk(actor.api_token),
            batch.customer_id,
            batch.reverses_id,
            batch.transfer_count,
            batch.note,
            batch.reference,
            at,
        ],
    )
    batch.pk = cursor.fetchone()[0]
    balances = _move_cached_totals(cursor, legs)
    rows: list[int | str | None] = []
    for leg in legs:
        rows += [
            batch.pk,
            leg.debit.pk,
            leg.credit.pk,
            leg.amount,
            str(leg.code),
            _pk(leg.reverses),
            actor.store.pk,
            _pk(actor.staff),
            _pk(actor.api_token),
            at,
        ]
    cursor.execute(INSERT_TRANSFER + ", ".join([TRANSFER_ROW] * len(legs)), rows)
    return balances


def _pk(instance: Model | None) -> int | None:
    return None if instance is None else int(instance.pk)


def post(
    key: str,
    legs: Sequence[Leg],
    *,
    code: Batch.Code,
    actor: Actor,
    customer: Customer | None = None,
    note: str = "",
    reference: str = "",
    request: object = None,
    reverses: Batch | None = None,
) -> Receipt:
    """Post ``legs`` as one batch under ``key``, exactly once.

    ``request`` describes what the caller was asked to do (an API body, a form); its
    digest decides whether a second call with the same key is a replay (same request:
    the original batch is returned) or a conflict (``IdempotencyConflict``). Without it,
    the legs themselves are the request.

    1. Validate the legs; refuse what can never be posted.
    2. In one transaction: insert the batch, move the cached totals under their floors,
       append the transfers. Any refusal rolls all of it back.
    3. A key seen before fails the batch insert on its unique index, before any money
       moves: then the stored batch is the answer (replay) or the refusal (conflict).
       Asking first would cost every sale a round trip for the rare retry.
    """
    _check(key, legs)
    fingerprint = fingerprint_of(
        request if request is not None else _describe(legs, code, customer)
    )
    batch = Batch(
        key=key,
        fingerprint=fingerprint,
        code=code,
        store=actor.store,
        staff=actor.staff,
        api_token=actor.api_token,
        customer=customer,
        reverses=reverses,
        transfer_count=len(legs),
        note=note[:255],
        reference=reference[:100],
        created_at=actor.at or timezone.now(),
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            balances = _append(cursor, batch, legs, actor)
    except IntegrityError:
        # The key was posted before, or by a concurrent request that committed while we
        # waited on the unique index; or the batch was reversed meanwhile.
        if replay := _replay(key, fingerprint):
            return replay
        if reverses is not None and Batch.objects.filter(reverses=reverses).exists():
            raise AlreadyReversed(reverses.pk) from None
        raise
    batch._state.adding = False
    batch._state.db = connection.alias
    return Receipt(batch, replayed=False, balances=balances, legs=tuple(legs))


@dataclass(frozen=True)
class Opening:
    """An opening balance for a customer registered in the same transaction."""

    customer_id: int
    amount: int
    floor: int
    key: str
    request: object


OPENING_CHUNK = 5000


def open_wallets(openings: Sequence[Opening], *, actor: Actor, unit: str, note: str = "") -> None:
    """Open the wallets of customers registered in the caller's transaction, each with its
    opening balance: the bulk form of ``post`` for an import of many new customers.

    Each customer gets what ``post`` would write (a batch under ``key`` with the request's
    digest, one OPENING transfer from the store's opening account), and the wallet row is
    inserted with its cached credits already set: the same end state as insert-then-
    guarded-UPDATE, since nobody else can touch an account that does not exist yet. The
    CHECK constraints, unique indexes and triggers still judge every row (COPY fires them
    as INSERT does). A key that exists fails the whole insert (IntegrityError): callers
    post replays of known customers through ``post`` instead.

    Per chunk: the wallets, then the batches, are inserted; their ids are read back by
    customer and by key (no RETURNING: COPY has none, and a multi-row RETURNING promises
    no order); then the transfers that link them.
    """
    if not openings:
        return
    for opening in openings:
        if opening.amount <= 0:
            raise InvalidTransfer(f"opening balance must be positive: {opening.amount}")
    house = house_account(Account.Kind.OPENING, store=actor.store, unit=unit)
    at = connection.ops.adapt_datetimefield_value(actor.at or timezone.now())
    who = [actor.store.pk, _pk(actor.staff), _pk(actor.api_token)]
    note = note[:255]
    wallet, opening_code = Account.Kind.WALLET.value, Batch.Code.OPENING.value
    code = Transfer.Code.OPENING.value
    with connection.cursor() as cursor:
        for start in range(0, len(openings), OPENING_CHUNK):
            chunk = openings[start : start + OPENING_CHUNK]
            bulk.insert_rows(
                *WALLET_COLUMNS,
                [[wallet, o.customer_id, unit, 0, o.amount, o.floor, at] for o in chunk],
            )
            bulk.insert_rows(
                *OPENING_BATCH_COLUMNS,
                [
                    [
                        o.key,
                        fingerprint_of(o.request),
                        opening_code,
                        *who,
                        o.customer_id,
                        1,
                        note,
                        at,
                    ]
                    for o in chunk
                ],
            )
            wallets = _ids(cursor, WALLET_IDS, [unit], [o.customer_id for o in chunk], "bigint")
            batches = _ids(cursor, OPENING_BATCH_IDS, [], [o.key for o in chunk], "text")
            bulk.insert_rows(
                *TRANSFER_COLUMNS,
                [
                    [
                        batches[o.key],
                        house.pk,
                        wallets[o.customer_id],
                        o.amount,
                        code,
                        None,
                        *who,
                        at,
                    ]
                    for o in chunk
                ],
            )


# (table, columns) of the rows ``open_wallets`` inserts, in the order its rows give them.
WALLET_COLUMNS = (
    "ledger_account",
    ["kind", "customer_id", "unit", "debits_posted", "credits_posted", "floor", "created_at"],
)
OPENING_BATCH_COLUMNS = (
    "ledger_batch",
    [
        "key",
        "fingerprint",
        "code",
        "store_id",
        "staff_id",
        "api_token_id",
        "customer_id",
        "transfer_count",
        "note",
        "created_at",
    ],
)
TRANSFER_COLUMNS = (
    "ledger_transfer",
    [
        "batch_id",
        "debit_account_id",
        "credit_account_id",
        "amount",
        "code",
        "reverses_id",
        "store_id",
        "staff_id",
        "api_token_id",
        "created_at",
    ],
)
WALLET_IDS = (
    "SELECT customer_id, id FROM ledger_account WHERE kind = 'wallet' AND unit = %s AND customer_id"
)
OPENING_BATCH_IDS = 'SELECT "key", id FROM ledger_batch WHERE "key"'


def _ids(
    cursor: CursorWrapper,
    sql: str,
    params: list[str],
    values: Sequence[int | str],
    array_type: str,
) -> dict[Any, int]:
    """``sql`` ends with the column to match: ``= ANY`` of one array on PostgreSQL, an
    ``IN`` list on SQLite (whose statements take at most 32,766 parameters).

    The array is cast to the column's type: psycopg sends small integers as int2[], and
    ``bigint = ANY(int2[])`` was not used as an index condition: each look-up then
    compared every wallet with every id, a second per chunk of 5,000 (100,000 rows: 10 s).
    """
    if connection.vendor == "postgresql":
        cursor.execute(f"{sql} = ANY(%s::{array_type}[])", [*params, list(values)])
    else:
        cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(values))})", [*params, *values])
    return {row[0]: int(row[1]) for row in cursor.fetchall()}


def reverse(batch: Batch, key: str, *, actor: Actor, note: str = "") -> Receipt:
    """Undo ``batch`` by a new batch of opposite transfers, each linked to its original.

    A batch is reversed at most once (``AlreadyReversed``); floors still hold, so a
    top-up already spent cannot be reversed (``InsufficientFunds``).
    """
    request = {"reverse": batch.pk}
    if replay := _replay(key, fingerprint_of(request)):
        return replay
    if batch.code == Batch.Code.REVERSAL:
        raise NotReversible(f"transaction {batch.pk} is a reversal itself")
    if Batch.objects.filter(reverses=batch).exists():
        raise AlreadyReversed(batch.pk)
    originals = list(batch.transfers.select_related("debit_account", "credit_account"))
    legs = [
        Leg(
            debit=original.credit_account,
            credit=original.debit_account,
            amount=original.amount,
            code=Transfer.Code.REVERSAL,
            reverses=original,
        )
        for original in originals
    ]
    return post(
        key,
        legs,
        code=Batch.Code.REVERSAL,
        actor=actor,
        customer=batch.customer,
        note=note,
        request=request,
        reverses=batch,
    )
