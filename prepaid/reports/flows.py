"""What moved in a span of time, and what was owed before and after it: the two things
every statement adds up, read straight from the ledger.

``flows`` groups the span's postings by who made them (store, counter, staff member,
API token) and by what they were (a top-up or a punch card sold by payment method, a
sale by product…), in
the shape of ``FlowDay`` rows, so a summarised day and a live span add up alike.
``liability_change`` is how much what the shop owes its customers moved in the span,
from the balances the transfers left (``Transfer.*_balance_after``): for each customer
account touched, its balance before its first transfer of the span and after its last
one. Both read only the span's own transfers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from prepaid.ledger.models import Account

QUANTITY = Decimal("0.001")

# Who made a posting: the dimensions a statement may be narrowed by.
Who = tuple[int, int | None, int | None, int | None]  # store, device, staff, token


@dataclass
class Measure:
    count: int = 0
    amount: int = 0
    bonus: int = 0
    quantity: Decimal = field(default_factory=Decimal)

    def add(self, other: Measure) -> None:
        self.count += other.count
        self.amount += other.amount
        self.bonus += other.bonus
        self.quantity += other.quantity


# (who, kind, key) → measure
Flows = dict[tuple[Who, str, str], Measure]

# Each query starts from the span's batches, read by their time (``ledger_batch.
# created_at`` is indexed) into a materialised set: without it SQLite, which has no
# statistics unless ANALYZE ran, scanned every batch (by the store index, to skip a
# sort) or every transfer first: a second a query at 2M transfers. A day holds a few
# thousand batches; PostgreSQL reads them the same way.
SPAN = """
WITH b AS MATERIALIZED (
    SELECT id, code, store_id, device_id, staff_id, api_token_id, reverses_id
    FROM ledger_batch WHERE code IN ({codes}) AND created_at >= %s AND created_at < %s
)
"""


def _span(*codes: str) -> str:
    return SPAN.format(codes=", ".join(f"'{code}'" for code in codes))


TOP_UPS = (
    _span("top_up")
    + """
SELECT b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id,
       COUNT(DISTINCT b.id),
       SUM(CASE WHEN t.code = 'top_up' THEN t.amount ELSE 0 END),
       SUM(CASE WHEN t.code = 'bonus' THEN t.amount ELSE 0 END)
FROM b
JOIN ledger_transfer m ON m.batch_id = b.id AND m.code = 'top_up'
JOIN ledger_account pa ON pa.id = m.debit_account_id
JOIN ledger_transfer t ON t.batch_id = b.id
GROUP BY b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id
"""
)

SALES = (
    _span("sale")
    + """
SELECT b.store_id, b.device_id, b.staff_id, b.api_token_id, l.product_id,
       COUNT(*), SUM(l.amount_minor), SUM(l.from_bonus_minor), SUM(l.quantity)
FROM b JOIN sales_saleline l ON l.batch_id = b.id
GROUP BY b.store_id, b.device_id, b.staff_id, b.api_token_id, l.product_id
"""
)

REFUNDS = (
    _span("refund")
    + """
SELECT b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id,
       COUNT(DISTINCT b.id),
       SUM(CASE WHEN t.code = 'refund' THEN t.amount ELSE 0 END),
       SUM(CASE WHEN t.code = 'forfeit' THEN t.amount ELSE 0 END)
FROM b
JOIN ledger_transfer m ON m.batch_id = b.id AND m.code = 'refund'
JOIN ledger_account pa ON pa.id = m.credit_account_id
JOIN ledger_transfer t ON t.batch_id = b.id
GROUP BY b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id
"""
)

# Punch cards sold, by the payment method that paid them (a free card moves no money).
PACKAGES = (
    _span("package")
    + """
SELECT b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id,
       COUNT(DISTINCT b.id), SUM(t.amount)
FROM b
JOIN ledger_transfer t ON t.batch_id = b.id AND t.code = 'package'
JOIN ledger_account pa ON pa.id = t.debit_account_id
GROUP BY b.store_id, b.device_id, b.staff_id, b.api_token_id, pa.payment_method_id
"""
)

# Per reversal: what it reversed (its original's code and payment method, if any), and
# the paid and bonus money it moved on the customer's accounts (for a punch card: the
# money paid for its uses not used yet).
REVERSALS = (
    _span("reversal")
    + """
SELECT r.store_id, r.device_id, r.staff_id, r.api_token_id, r.original, r.method,
       COUNT(*), SUM(r.paid), SUM(r.bonus)
FROM (
    SELECT b.id, b.store_id, b.device_id, b.staff_id, b.api_token_id, o.code AS original,
           MAX(COALESCE(da.payment_method_id, ca.payment_method_id)) AS method,
           SUM(CASE WHEN da.kind IN ('wallet', 'deferred') OR ca.kind IN ('wallet', 'deferred')
                    THEN t.amount ELSE 0 END) AS paid,
           SUM(CASE WHEN da.kind = 'bonus' OR ca.kind = 'bonus' THEN t.amount ELSE 0 END)
               AS bonus
    FROM b
    JOIN ledger_batch o ON o.id = b.reverses_id
    JOIN ledger_transfer t ON t.batch_id = b.id
    JOIN ledger_account da ON da.id = t.debit_account_id
    JOIN ledger_account ca ON ca.id = t.credit_account_id
    GROUP BY b.id, b.store_id, b.device_id, b.staff_id, b.api_token_id, o.code
) r
GROUP BY r.store_id, r.device_id, r.staff_id, r.api_token_id, r.original, r.method
"""
)

# Opening balances, adjustments, expiry: money put on or taken off customer accounts
# for another reason than a payment or a sale.
OTHERS = (
    _span("opening", "adjustment", "expiry")
    + """
SELECT b.store_id, b.device_id, b.staff_id, b.api_token_id, b.code, COUNT(DISTINCT b.id),
       SUM(CASE WHEN ca.kind = 'wallet' THEN t.amount
                WHEN da.kind = 'wallet' THEN -t.amount ELSE 0 END),
       SUM(CASE WHEN ca.kind = 'bonus' THEN t.amount
                WHEN da.kind = 'bonus' THEN -t.amount ELSE 0 END)
FROM b
JOIN ledger_transfer t ON t.batch_id = b.id
JOIN ledger_account da ON da.id = t.debit_account_id
JOIN ledger_account ca ON ca.id = t.credit_account_id
GROUP BY b.store_id, b.device_id, b.staff_id, b.api_token_id, b.code
"""
)


def flows(start: datetime, end: datetime) -> Flows:
    """Everything posted from ``start`` (included) to ``end`` (excluded), grouped."""
    found: Flows = defaultdict(Measure)
    window = _moments(start, end)
    for row in _rows(TOP_UPS, window):
        *who, method, count, amount, bonus = row
        found[(_who(who), "top_up", str(method))].add(_sums(count, amount, bonus))
    for row in _rows(SALES, window):
        *who, product, count, amount, bonus, quantity = row
        measure = _sums(count, amount, bonus, _quantity(quantity))
        found[(_who(who), "sale", str(product))].add(measure)
    for row in _rows(PACKAGES, window):
        *who, method, count, amount = row
        found[(_who(who), "package", str(method))].add(_sums(count, amount, 0))
    for row in _rows(REFUNDS, window):
        *who, method, count, amount, forfeited = row
        found[(_who(who), "refund", str(method))].add(_sums(count, amount, forfeited))
    for row in _rows(REVERSALS, window):
        *who, original, method, count, paid, bonus = row
        key = f"{original}:{method or 0}"
        found[(_who(who), "reversal", key)].add(_sums(count, paid, bonus))
    for row in _rows(OTHERS, window):
        *who, code, count, paid, bonus = row
        found[(_who(who), code, "")].add(_sums(count, paid, bonus))
    return dict(found)


def _sums(
    count: int | Decimal,
    amount: int | Decimal,
    bonus: int | Decimal,
    quantity: Decimal | None = None,
) -> Measure:
    """A row's sums as plain ints (PostgreSQL sums bigints as numeric: Decimal)."""
    return Measure(int(count), int(amount), int(bonus), quantity or Decimal())


def _quantity(value: Any) -> Decimal:
    """A summed quantity, to its three decimals (SQLite sums NUMERIC columns as floats)."""
    return Decimal(str(value)).quantize(QUANTITY)


def _moments(*moments: datetime) -> list[Any]:
    """Aware datetimes as the database compares them (SQLite keeps UTC text)."""
    return [connection.ops.adapt_datetimefield_value(moment) for moment in moments]


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _who(values: list[Any]) -> Who:
    store, device, staff, token = values
    return (int(store), _id(device), _id(staff), _id(token))


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


# -- what was owed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """What the shop owes its customers (or the change of it): paid balances above zero,
    bonus, credit (paid balances below zero, as a positive amount) and how many
    customers hold a paid or bonus balance."""

    paid: int = 0
    bonus: int = 0
    credit: int = 0
    holders: int = 0

    def __add__(self, other: Owed) -> Owed:
        return Owed(
            self.paid + other.paid,
            self.bonus + other.bonus,
            self.credit + other.credit,
            self.holders + other.holders,
        )

    @property
    def total(self) -> int:
        """Paid and bonus money together: what customers can still spend of their own."""
        return self.paid + self.bonus


# For each customer money account (paid, bonus) moved in the span: its kind, its owner,
# its balance before its first transfer of the span and after its last one. (A punch
# card's counts are a customer account too, but not money owed.)
ENDS = """
WITH moves AS (
    SELECT t.id, t.debit_account_id AS account, -t.amount AS delta,
           t.debit_balance_after AS after
    FROM ledger_transfer t
    WHERE t.created_at >= %s AND t.created_at < %s AND t.debit_balance_after IS NOT NULL
    UNION ALL
    SELECT t.id, t.credit_account_id, t.amount, t.credit_balance_after
    FROM ledger_transfer t
    WHERE t.created_at >= %s AND t.created_at < %s AND t.credit_balance_after IS NOT NULL
), ends AS (
    SELECT account, MIN(id) AS first_id, MAX(id) AS last_id FROM moves GROUP BY account
)
SELECT a.id, a.kind, a.customer_id, f.after - f.delta, l.after
FROM ends e
JOIN moves f ON f.account = e.account AND f.id = e.first_id
JOIN moves l ON l.account = e.account AND l.id = e.last_id
JOIN ledger_account a ON a.id = e.account
WHERE a.kind IN ('wallet', 'bonus')
"""

# The balance of each of these accounts just before a moment: the balance its last
# transfer before then left (none: zero).
BEFORE = """
SELECT s.account, s.after FROM (
    SELECT t.debit_account_id AS account, t.id, t.debit_balance_after AS after
    FROM ledger_transfer t WHERE t.debit_account_id IN ({marks}) AND t.created_at < %s
    UNION ALL
    SELECT t.credit_account_id, t.id, t.credit_balance_after
    FROM ledger_transfer t WHERE t.credit_account_id IN ({marks}) AND t.created_at < %s
) s
JOIN (
    SELECT account, MAX(id) AS last_id FROM (
        SELECT t.debit_account_id AS account, t.id FROM ledger_transfer t
        WHERE t.debit_account_id IN ({marks}) AND t.created_at < %s
        UNION ALL
        SELECT t.credit_account_id, t.id FROM ledger_transfer t
        WHERE t.credit_account_id IN ({marks}) AND t.created_at < %s
    ) ids GROUP BY account
) last ON last.account = s.account AND last.last_id = s.id
"""
CHUNK = 500  # accounts per BEFORE query


def liability_change(start: datetime, end: datetime) -> Owed:
    """How much what the shop owes moved from ``start`` to ``end``: the sum, over the
    customer accounts moved in between, of what each owes after minus before."""
    if start >= end:
        return Owed()  # an empty span (a statement's opening at a summarised day's end)
    with connection.cursor() as cursor:
        cursor.execute(ENDS, _moments(start, end) * 2)
        ends = cursor.fetchall()
    owners: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for _account, kind, customer, before, after in ends:
        owners[int(customer)][str(kind)] = (int(before), int(after))
    _fill_untouched(owners, start)
    paid = bonus = credit = holders = 0
    for balances in owners.values():
        wallet_before, wallet_after = balances.get("wallet", (0, 0))
        bonus_before, bonus_after = balances.get("bonus", (0, 0))
        paid += max(wallet_after, 0) - max(wallet_before, 0)
        credit += max(-wallet_after, 0) - max(-wallet_before, 0)
        bonus += bonus_after - bonus_before
        had = wallet_before > 0 or bonus_before > 0
        has = wallet_after > 0 or bonus_after > 0
        holders += int(has) - int(had)
    return Owed(paid, bonus, credit, holders)


def _fill_untouched(owners: dict[int, dict[str, tuple[int, int]]], start: datetime) -> None:
    """A customer with one account moved and the other not: the other's balance, which
    stayed what it was before ``start``, decides whether they hold a balance."""
    missing: dict[int, tuple[int, str]] = {}
    lacking = [customer for customer, kinds in owners.items() if len(kinds) < 2]
    for account in Account.objects.filter(
        customer_id__in=lacking, kind__in=("wallet", "bonus")
    ).values_list("id", "customer_id", "kind"):
        account_id, customer, kind = account
        if kind not in owners[customer]:
            missing[account_id] = (customer, kind)
    ids = list(missing)
    (before,) = _moments(start)
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin : begin + CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                BEFORE.format(marks=marks),
                [*chunk, before, *chunk, before, *chunk, before, *chunk, before],
            )
            for account_id, balance in cursor.fetchall():
                customer, kind = missing.pop(int(account_id))
                owners[customer][kind] = (int(balance), int(balance))
    for customer, kind in missing.values():  # never moved before: zero
        owners[customer][kind] = (0, 0)
