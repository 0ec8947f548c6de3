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

from django.db import IntegrityError, connection
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Model, Sum, Value
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.errors import (
    AlreadyReversed,
    AmountTooLarge,
    BalanceTooLarge,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    NotReversible,
)
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib import bulk, rows
from prepaid.lib.money import MAX_MINOR, MAX_TOTAL
from prepaid.lib.transactions import in_envelope, step
from prepaid.staff.models import ApiToken, Device, Staff, Store

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

    ``at`` back-dates a posting for the demo; the counter, the API and the import leave it
    unset, so the posting's time is now.
    """

    store: Store
    staff: Staff | None = None
    api_token: ApiToken | None = None
    at: datetime | None = None
    device: Device | None = None  # the counter, when the posting is made at one

    @property
    def by(self) -> Staff | ApiToken | None:
        """Who acts, as the audit trail records them."""
        return self.staff or self.api_token

    @property
    def role(self) -> str | None:
        """The role the actor acts with: the staff member's, or the API token's."""
        who = self.staff or self.api_token
        return who.role if who is not None else None


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
    """The customer's account of that kind, opened if it is missing (a write: call it
    only where money is about to move).

    The wallet's floor is minus the customer's credit limit; every other customer account
    floors at zero.
    """
    floor = -customer.credit_limit_minor if kind == Account.Kind.WALLET else 0
    account, _ = Account.objects.get_or_create(
        kind=kind, customer=customer, unit=unit, defaults={"floor": floor}
    )
    return account


def open_accounts(customer: Customer, *, unit: str) -> tuple[Account, Account]:
    """Open the customer's wallet and bonus account (at registration): every later read
    finds them, so reading a balance never writes."""
    return (
        customer_account(customer, Account.Kind.WALLET, unit=unit),
        customer_account(customer, Account.Kind.BONUS, unit=unit),
    )


def customer_accounts(customer: Customer, *, unit: str) -> tuple[Account, Account]:
    """The customer's wallet and bonus account in one query, opening what is missing (a
    customer registered before accounts were opened at registration)."""
    wallet, bonus = read_accounts(customer, unit=unit)
    if wallet is not None and bonus is not None:
        return wallet, bonus
    return open_accounts(customer, unit=unit)


def read_accounts(customer: Customer, *, unit: str) -> tuple[Account | None, Account | None]:
    """The customer's wallet and bonus account as they are, in one query, without
    opening any: for pages and answers (a GET never writes)."""
    wallet_kind, bonus_kind = Account.CUSTOMER_KINDS
    where = "customer_id = %s AND unit = %s AND kind IN (%s, %s)"
    found = {
        account.kind: account
        for account in rows.many(
            Account, where, [customer.pk, unit, str(wallet_kind), str(bonus_kind)]
        )
    }
    return found.get(Account.Kind.WALLET), found.get(Account.Kind.BONUS)


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
        if leg.amount > MAX_MINOR:
            raise AmountTooLarge(leg.amount)
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


# The hot path of every sale is two or three statements: one guarded UPDATE per customer
# account, then the batch and its transfers (one statement on PostgreSQL, two on
# SQLite). They are written as fixed SQL rather than through the ORM, which spent about
# 3.8 ms of Python per posting building and compiling them (``python -m bench.ledger
# --profile``), three times the database's own work. Their column lists come from the models
# (``rows.columns``), and the model's constraints and triggers still check every row.

MOVE_TOTALS = (
    "UPDATE ledger_account SET debits_posted = debits_posted + %s,"
    " credits_posted = credits_posted + %s"
    ' WHERE id = %s AND credits_posted - debits_posted >= "floor" + %s'
    f" AND debits_posted + %s <= {MAX_TOTAL} AND credits_posted + %s <= {MAX_TOTAL}"
    " RETURNING credits_posted - debits_posted"
)
# A batch that adds to an account: the same, and the balance stays within the ceiling.
MOVE_TOTALS_UP = MOVE_TOTALS.replace(
    " RETURNING", f" AND credits_posted - debits_posted + %s <= {MAX_MINOR} RETURNING"
)


def _move_cached_totals(cursor: CursorWrapper, legs: Sequence[Leg]) -> dict[int, int]:
    """Add the batch's debits and credits to its customer accounts, floors permitting.

    1. Net the batch per account, so an account touched twice is updated once.
    2. Visit accounts in id order: concurrent batches lock rows in the same order and
       cannot deadlock.
    3. One guarded UPDATE per account: the WHERE clause re-checks the floor against the
       row as it is now, under the row lock, so two sales can never both spend the same
       money, nor take a balance beyond the ceiling of every amount (``MAX_MINOR``) or
       its running totals beyond ``MAX_TOTAL``. Zero rows updated means one of those
       would be crossed (the account read afresh says which); otherwise the row returns
       the account's new balance.
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
        given = [debit, credit, account_id, debit - credit, debit, credit]
        if credit > debit:
            cursor.execute(MOVE_TOTALS_UP, [*given, credit - debit])
        else:
            cursor.execute(MOVE_TOTALS, given)
        row = cursor.fetchone()
        if row is None:
            account = Account.objects.get(pk=account_id)
            available = account.cached_balance - (account.floor or 0)
            if available < debit - credit:
                raise InsufficientFunds(account_id, available=available, requested=debit - credit)
            raise BalanceTooLarge(account_id, most=MAX_MINOR)
        balances[account_id] = int(row[0])
    return balances


def _append(cursor: CursorWrapper, batch: Batch, legs: Sequence[Leg]) -> dict[int, int]:
    """Move the totals, then insert the batch and its transfers: the caller's one
    transaction. Returns the new balances of the customer accounts moved.

    The key's unique index refuses a batch whose key exists (``IntegrityError``); the
    UPDATEs before it roll back with it.
    """
    balances = _move_cached_totals(cursor, legs)
    after = _running_balances(legs, balances)
    transfers = [
        {
            "batch_id": None,
            "debit_account_id": leg.debit.pk,
            "credit_account_id": leg.credit.pk,
            "amount": leg.amount,
            "code": str(leg.code),
            "reverses_id": _pk(leg.reverses),
            "store_id": batch.store_id,
            "staff_id": batch.staff_id,
            "api_token_id": batch.api_token_id,
            "created_at": batch.created_at,
            "debit_balance_after": debit_after,
            "credit_balance_after": credit_after,
        }
        for leg, (debit_after, credit_after) in zip(legs, after, strict=True)
    ]
    head = rows.columns(Batch)
    if connection.vendor == "postgresql":
        # One round trip: the transfers take the batch's id from the batch's INSERT.
        tail = rows.columns(Transfer, exclude=("batch",))
        cursor.execute(
            f"WITH batch AS (INSERT INTO {head.table} ({head.names}) VALUES {head.marks}"
            f" RETURNING id) INSERT INTO {tail.table} (batch_id, {tail.names})"
            f" SELECT batch.id, v.* FROM batch,"
            f" (VALUES {', '.join([tail.cast_marks] * len(transfers))}) AS v"
            " RETURNING batch_id",
            [*rows.values(batch, head), *(v for t in transfers for v in rows.values_of(t, tail))],
        )
        batch.pk = cursor.fetchone()[0]
        return balances
    cursor.execute(
        f"INSERT INTO {head.table} ({head.names}) VALUES {head.marks} RETURNING id",
        rows.values(batch, head),
    )
    batch.pk = cursor.fetchone()[0]
    for transfer in transfers:
        transfer["batch_id"] = batch.pk
    tail = rows.columns(Transfer)
    cursor.execute(
        f"INSERT INTO {tail.table} ({tail.names}) VALUES "
        + ", ".join([tail.marks] * len(transfers)),
        [value for transfer in transfers for value in rows.values_of(transfer, tail)],
    )
    return balances


def _running_balances(
    legs: Sequence[Leg], balances: dict[int, int]
) -> list[tuple[int | None, int | None]]:
    """Per leg, the balance it leaves on its debit and its credit account when that is a
    customer account (None for a house account): from each account's balance after the
    whole batch (``balances``), back to its balance before it, then forward leg by leg."""
    running = dict(balances)
    for leg in legs:
        if leg.debit.pk in running:
            running[leg.debit.pk] += leg.amount
        if leg.credit.pk in running:
            running[leg.credit.pk] -= leg.amount
    after = []
    for leg in legs:
        debit_after = credit_after = None
        if leg.debit.pk in running:
            running[leg.debit.pk] -= leg.amount
            debit_after = running[leg.debit.pk]
        if leg.credit.pk in running:
            running[leg.credit.pk] += leg.amount
            credit_after = running[leg.credit.pk]
        after.append((debit_after, credit_after))
    return after


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
    2. In one transaction: move the cached totals under their floors, insert the batch
       and its transfers. Any refusal rolls all of it back.
    3. A key seen before fails the batch insert on its unique index: then the stored
       batch is the answer (replay) or the refusal (conflict). Asking first would cost
       every sale a round trip for the rare retry. Inside the operation envelope,
       which answers replays from its stored outcomes before anything runs, the error
       goes up instead: the envelope starts again and finds the first outcome.
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
        device=actor.device,
        customer=customer,
        reverses=reverses,
        transfer_count=len(legs),
        note=note[:255],
        reference=reference[:100],
        created_at=actor.at or timezone.now(),
    )
    try:
        with step(), connection.cursor() as cursor:
            balances = _append(cursor, batch, legs)
    except (IntegrityError, InsufficientFunds):
        # The key was posted before, or by a concurrent request that committed while we
        # waited on the unique index (a replay even when the money is gone by now); or
        # the batch was reversed meanwhile.
        if in_envelope():
            raise
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
    """A customer registered in the same transaction, whose accounts ``open_many`` opens;
    ``amount`` > 0 is an opening balance, posted under ``key`` for ``request``."""

    customer_id: int
    floor: int
    amount: int = 0
    key: str = ""
    request: object = None


OPENING_CHUNK = 5000


def open_many(openings: Sequence[Opening], *, actor: Actor, unit: str, note: str = "") -> None:
    """Open the wallet and bonus account of customers registered in the caller's
    transaction, wallets with their opening balance: the bulk form of ``open_accounts``
    and ``post``, for an import of many new customers.

    Each opening balance gets what ``post`` would write (a batch under ``key`` with the
    request's digest, one OPENING transfer from the store's opening account), and the
    wallet row is inserted with its cached credits already set: the same end state as
    insert-then-guarded-UPDATE, since nobody else can touch an account that does not
    exist yet. The CHECK constraints, unique indexes and triggers still judge every row
    (COPY fires them as INSERT does). A key that exists fails the whole insert
    (IntegrityError): callers post replays of known customers through ``post`` instead.

    Per chunk: the accounts, then the batches, are inserted (``bulk.insert``: columns
    from the models); their ids are read back by customer and by key (no RETURNING:
    COPY has none, and a multi-row RETURNING promises no order); then the transfers
    that link them.
    """
    if not openings:
        return
    for opening in openings:
        if opening.amount < 0:
            raise InvalidTransfer(f"opening balance must not be negative: {opening.amount}")
    at = actor.at or timezone.now()
    who = {
        "store_id": actor.store.pk,
        "staff_id": _pk(actor.staff),
        "api_token_id": _pk(actor.api_token),
    }
    house = None
    with connection.cursor() as cursor:
        for start in range(0, len(openings), OPENING_CHUNK):
            chunk = openings[start : start + OPENING_CHUNK]
            accounts = [
                {
                    "kind": kind,
                    "customer_id": o.customer_id,
                    "credits_posted": credits,
                    "floor": floor,
                }
                for o in chunk
                for kind, credits, floor in (
                    (Account.Kind.WALLET.value, o.amount, o.floor),
                    (Account.Kind.BONUS.value, 0, 0),
                )
            ]
            bulk.insert(Account, accounts, same={"unit": unit, "created_at": at})
            funded = [o for o in chunk if o.amount]
            if not funded:
                continue
            house = house or house_account(Account.Kind.OPENING, store=actor.store, unit=unit)
            bulk.insert(
                Batch,
                [
                    {
                        "key": o.key,
                        "fingerprint": fingerprint_of(o.request),
                        "customer_id": o.customer_id,
                    }
                    for o in funded
                ],
                same={
                    **who,
                    "code": Batch.Code.OPENING.value,
                    "transfer_count": 1,
                    "note": note[:255],
                    "created_at": at,
                },
            )
            wallets = _ids(cursor, WALLET_IDS, [unit], [o.customer_id for o in funded], "bigint")
            batches = _ids(cursor, OPENING_BATCH_IDS, [], [o.key for o in funded], "text")
            bulk.insert(
                Transfer,
                [
                    {
                        "batch_id": batches[o.key],
                        "credit_account_id": wallets[o.customer_id],
                        "amount": o.amount,
                        "credit_balance_after": o.amount,  # the wallet's first transfer
                    }
                    for o in funded
                ],
                same={
                    **who,
                    "debit_account_id": house.pk,
                    "code": Transfer.Code.OPENING.value,
                    "created_at": at,
                },
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
    top-up already spent cannot be reversed (``InsufficientFunds``). Called again with
    the same key, it returns the first reversal (outside the envelope, which answers
    replays itself).
    """
    request = {"reverse": batch.pk}
    if not in_envelope() and (replay := _replay(key, fingerprint_of(request))):
        return replay
    if batch.code == Batch.Code.REVERSAL:
        raise NotReversible(batch.pk)
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
