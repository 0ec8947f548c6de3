"""How old the money customers hold is, who has not been back, and how much of it is
likely to be used — read from the ledger as it is now.

Aging (first in, first out)
    A sale spends a customer's oldest money first, so what a customer still holds is the
    money they paid in last. Each positive paid balance is attributed to the customer's
    latest payments into their wallet (top-ups, opening balances, sums given back by a
    reversal), newest first, until it is covered; each part is aged by the day it came
    in: 0–30, 31–90, 91–180, 181–365, more than 365 days.

Dormant balances
    Customers with a paid or bonus balance and no transaction for N days.

Expected burn-down
    Each customer's own pace: what they spent of their balances in the last 90 days,
    per day. At that pace, how much of what they hold today is used within 30, 60 and
    90 days (never more than they hold); what customers who spent nothing in those 90
    days hold is the likely breakage (money that may never be used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from prepaid.ledger.models import Batch
from prepaid.reports import days
from prepaid.reports.models import Outlook

BUCKETS = (30, 90, 180, 365)  # upper bounds in days; the last bucket is "more than 365"
PACE_DAYS = 90
HORIZONS = (30, 60, 90)

AGING = """
WITH held AS (
    SELECT id, credits_posted - debits_posted AS balance FROM ledger_account
    WHERE kind = 'wallet' AND customer_id IS NOT NULL AND credits_posted > debits_posted
), paid_in AS (
    -- The balance rides along: joining "held" a second time made SQLite compare every
    -- payment with every held wallet (two materialised CTEs, no index between them).
    SELECT t.created_at, t.amount, h.balance,
           SUM(t.amount) OVER (
               PARTITION BY t.credit_account_id ORDER BY t.id DESC ROWS UNBOUNDED PRECEDING
           ) - t.amount AS newer
    FROM ledger_transfer t JOIN held h ON h.id = t.credit_account_id
), parts AS (
    SELECT created_at,
           CASE WHEN amount < balance - newer THEN amount ELSE balance - newer END AS part
    FROM paid_in
    WHERE newer < balance
)
SELECT CASE WHEN created_at >= %s THEN 0
            WHEN created_at >= %s THEN 1
            WHEN created_at >= %s THEN 2
            WHEN created_at >= %s THEN 3
            ELSE 4 END AS bucket,
       SUM(part), COUNT(*)
FROM parts GROUP BY 1
"""


@dataclass(frozen=True)
class Aging:
    """Paid balances by the age of the money: ``amounts[i]`` for bucket ``i`` (0–30,
    31–90, 91–180, 181–365, more than 365 days)."""

    amounts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.amounts)


def aging(now: datetime | None = None) -> Aging:
    now = now or timezone.now()
    bounds = [connection.ops.adapt_datetimefield_value(now - timedelta(days=d)) for d in BUCKETS]
    amounts = [0] * (len(BUCKETS) + 1)
    with connection.cursor() as cursor:
        cursor.execute(AGING, bounds)
        for bucket, amount, _parts in cursor.fetchall():
            amounts[int(bucket)] = int(amount or 0)
    return Aging(tuple(amounts))


@dataclass(frozen=True)
class Quiet:
    customer_id: int
    paid: int
    bonus: int
    last_seen: datetime | None


@dataclass(frozen=True)
class Dormant:
    days: int
    count: int
    paid: int
    bonus: int
    largest: list[Quiet] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.paid + self.bonus


def dormant(days: int, *, now: datetime | None = None, show: int = 50) -> Dormant:
    """Customers holding money with no transaction in the last ``days`` days: how many,
    how much, and the ``show`` largest."""
    return dormant_all(now, days=(days,), show=show)[days]


# Every customer holding something, with their last transaction: one pass for all the
# day counts the page offers (``dormant_all``).
HOLDERS = """
WITH held AS (
    SELECT customer_id,
           SUM(CASE WHEN kind = 'wallet' AND credits_posted > debits_posted
                    THEN credits_posted - debits_posted ELSE 0 END) AS paid,
           SUM(CASE WHEN kind = 'bonus' THEN credits_posted - debits_posted ELSE 0 END)
               AS bonus
    FROM ledger_account
    WHERE customer_id IS NOT NULL AND kind IN ('wallet', 'bonus')
    GROUP BY customer_id
), seen AS (
    -- Each customer's last transaction, in one pass over the batches (a look-up per
    -- holder took twice as long on SQLite at a million customers).
    SELECT customer_id, MAX(created_at) AS last FROM ledger_batch
    WHERE customer_id IS NOT NULL GROUP BY customer_id
)
SELECT h.customer_id, h.paid, h.bonus, s.last
FROM held h LEFT JOIN seen s ON s.customer_id = h.customer_id
WHERE h.paid + h.bonus > 0
"""
DORMANT_DAYS = (30, 60, 90, 180, 365)


def dormant_all(
    now: datetime | None = None, *, days: tuple[int, ...] = DORMANT_DAYS, show: int = 50
) -> dict[int, Dormant]:
    """``dormant`` for each of ``days``, from one read of every customer holding
    something (a million customers: seconds once, not seconds per day count)."""
    now = now or timezone.now()
    holders: list[Quiet] = []
    with connection.cursor() as cursor:
        cursor.execute(HOLDERS)
        for customer, paid, bonus, last in cursor.fetchall():
            holders.append(Quiet(int(customer), int(paid), int(bonus), _moment(last)))
    holders.sort(key=lambda q: (-(q.paid + q.bonus), q.customer_id))
    found = {}
    for count in days:
        cutoff = now - timedelta(days=count)
        quiet = [q for q in holders if q.last_seen is None or q.last_seen < cutoff]
        found[count] = Dormant(
            count,
            len(quiet),
            sum(q.paid for q in quiet),
            sum(q.bonus for q in quiet),
            quiet[:show],
        )
    return found


def _moment(value: object) -> datetime | None:
    """A datetime from a raw aggregate (SQLite hands back text)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if timezone.is_naive(parsed) else parsed


# Per customer holding something: what they hold and what they spent in the pace window
# (sales from their accounts, less those of its sales that were reversed: a sale made
# before the window and reversed in it is no spending of the window, and counting its
# reversal made the pace negative).
BURN = """
WITH held AS (
    SELECT customer_id,
           SUM(CASE WHEN kind = 'wallet' AND credits_posted > debits_posted
                    THEN credits_posted - debits_posted
                    WHEN kind = 'bonus' THEN credits_posted - debits_posted ELSE 0 END)
               AS balance
    FROM ledger_account
    WHERE customer_id IS NOT NULL AND kind IN ('wallet', 'bonus')
    GROUP BY customer_id
), spent AS (
    SELECT a.customer_id, SUM(t.amount) AS amount
    FROM ledger_transfer t JOIN ledger_account a ON a.id = t.debit_account_id
    WHERE t.code = 'sale' AND t.created_at >= %s AND a.customer_id IS NOT NULL
    GROUP BY a.customer_id
), back AS (
    SELECT a.customer_id, SUM(t.amount) AS amount
    FROM ledger_transfer t
    JOIN ledger_account a ON a.id = t.credit_account_id
    JOIN ledger_transfer o ON o.id = t.reverses_id
    WHERE t.code = 'reversal' AND o.code = 'sale' AND t.created_at >= %s
      AND o.created_at >= %s AND a.customer_id IS NOT NULL
    GROUP BY a.customer_id
), pace AS (
    SELECT h.customer_id, h.balance,
           COALESCE(s.amount, 0) - COALESCE(b.amount, 0) AS spent
    FROM held h
    LEFT JOIN spent s ON s.customer_id = h.customer_id
    LEFT JOIN back b ON b.customer_id = h.customer_id
    WHERE h.balance > 0
)
SELECT SUM(balance),
       SUM(CASE WHEN spent * %s < balance * %s THEN spent * %s / %s ELSE balance END),
       SUM(CASE WHEN spent * %s < balance * %s THEN spent * %s / %s ELSE balance END),
       SUM(CASE WHEN spent * %s < balance * %s THEN spent * %s / %s ELSE balance END),
       SUM(CASE WHEN spent <= 0 THEN balance ELSE 0 END),
       COUNT(*),
       SUM(CASE WHEN spent <= 0 THEN 1 ELSE 0 END)
FROM pace
"""


@dataclass(frozen=True)
class BurnDown:
    """Of ``held`` (paid above zero and bonus, now): what is expected to be used within
    30, 60 and 90 days at each customer's own pace, and ``breakage``: what customers who
    spent nothing in the last 90 days hold."""

    held: int
    within: tuple[int, int, int]
    breakage: int
    customers: int
    quiet_customers: int

    @property
    def beyond(self) -> int:
        """What is not expected to be used within 90 days."""
        return self.held - self.within[-1]


def burn_down(now: datetime | None = None) -> BurnDown:
    now = now or timezone.now()
    since = connection.ops.adapt_datetimefield_value(now - timedelta(days=PACE_DAYS))
    params: list[Any] = [since, since, since]
    for horizon in HORIZONS:
        # spent × horizon / PACE_DAYS, capped at the balance; compared without division.
        params += [horizon, PACE_DAYS, horizon, PACE_DAYS]
    with connection.cursor() as cursor:
        cursor.execute(BURN, params)
        held, in30, in60, in90, breakage, customers, quiet = cursor.fetchone()
    return BurnDown(
        held=int(held or 0),
        within=(int(in30 or 0), int(in60 or 0), int(in90 or 0)),
        breakage=int(breakage or 0),
        customers=int(customers or 0),
        quiet_customers=int(quiet or 0),
    )


# -- kept once a day --------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Aging and the burn-down as they were at ``as_of``; ``kept``: read from a stored
    ``Outlook`` (else computed for this read)."""

    as_of: datetime
    aging: Aging
    burn: BurnDown
    kept: bool
    dormant: dict[int, Dormant] = field(default_factory=dict)  # by day count


def standing(now: datetime | None = None) -> Standing:
    """The latest stored aging and burn-down; computed now if none was ever stored."""
    row = Outlook.objects.order_by("-computed_at").first()
    if row is None:
        now = now or timezone.now()
        return Standing(now, aging(now), burn_down(now), kept=False, dormant=dormant_all(now))
    return _standing(row)


def record(now: datetime | None = None) -> Standing:
    """Compute aging and the burn-down now, and store them."""
    now = now or timezone.now()
    aged, burn, quiet = aging(now), burn_down(now), dormant_all(now)
    row = Outlook.objects.create(
        dormant={str(days): _stored(found) for days, found in quiet.items()},
        computed_at=now,
        aged=list(aged.amounts),
        held=burn.held,
        within_30=burn.within[0],
        within_60=burn.within[1],
        within_90=burn.within[2],
        breakage=burn.breakage,
        customers=burn.customers,
        quiet_customers=burn.quiet_customers,
    )
    return _standing(row)


def keep_outlook(now: datetime | None = None) -> int:
    """The worker's daily round: store aging and the burn-down once the shop's day has
    turned (none stored since today began), when there is a ledger to read. Answers 1
    when it stored them, else 0."""
    now = now or timezone.now()
    began = days.bounds(days.today(now))[0]
    if Outlook.objects.filter(computed_at__gte=began).exists() or not Batch.objects.exists():
        return 0
    record(now)
    return 1


def _standing(row: Outlook) -> Standing:
    burn = BurnDown(
        held=row.held,
        within=(row.within_30, row.within_60, row.within_90),
        breakage=row.breakage,
        customers=row.customers,
        quiet_customers=row.quiet_customers,
    )
    quiet = {int(days): _dormant(int(days), found) for days, found in row.dormant.items()}
    aged = Aging(tuple(int(a) for a in row.aged))
    return Standing(row.computed_at, aged, burn, kept=True, dormant=quiet)


def _stored(found: Dormant) -> dict[str, Any]:
    return {
        "count": found.count,
        "paid": found.paid,
        "bonus": found.bonus,
        "largest": [
            [q.customer_id, q.paid, q.bonus, q.last_seen.isoformat() if q.last_seen else None]
            for q in found.largest
        ],
    }


def _dormant(days: int, stored: dict[str, Any]) -> Dormant:
    largest = [
        Quiet(int(customer), int(paid), int(bonus), _moment(last) if last else None)
        for customer, paid, bonus, last in stored["largest"]
    ]
    return Dormant(days, int(stored["count"]), int(stored["paid"]), int(stored["bonus"]), largest)
