"""The stored-value programs on a statement: what the days did with punch cards, passes
and points, and what the shop still owes in them at the end.

Read from the ledger at the time of asking (the programs' transfers are a small part
of it), for the chain or one store; not part of a day close's digest. Figures are
gross, as the statement's own lines are: a reversal in the span is not netted here
(the statement lists reversals apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from prepaid.reports import days

# What the span moved, by code and the two sides' kinds (units split by card and pass).
MOVED = """
SELECT t.code, da.kind, ca.kind, SUBSTR(da.unit, 1, 2), SUBSTR(ca.unit, 1, 2), COUNT(*),
       SUM(t.amount)
FROM ledger_transfer t
JOIN ledger_account da ON da.id = t.debit_account_id
JOIN ledger_account ca ON ca.id = t.credit_account_id
WHERE t.created_at >= %s AND t.created_at < %s
  AND t.code IN ('redeem', 'recognise', 'expiry', 'points', 'points_used', 'return')
  {store}
GROUP BY t.code, da.kind, ca.kind, SUBSTR(da.unit, 1, 2), SUBSTR(ca.unit, 1, 2)
"""

# What accounts of a kind held at a moment: credits less debits up to it.
HELD = """
SELECT COALESCE(SUM(CASE WHEN a.id = t.credit_account_id THEN t.amount ELSE -t.amount END), 0)
FROM ledger_account a
JOIN ledger_transfer t ON t.credit_account_id = a.id OR t.debit_account_id = a.id
WHERE a.kind = %s AND t.created_at < %s {store}
"""


@dataclass
class ProgramFigures:
    card_uses: int = 0  # uses of punch cards redeemed
    pass_uses: int = 0  # uses under passes
    recognised: int = 0  # money of punch card uses made revenue
    uses_expired: int = 0  # uses left on cards that ended
    breakage: int = 0  # the money for them
    passes_earned: int = 0  # passes that ended, their price made revenue
    passes_revenue: int = 0
    uses_refunded: int = 0  # uses paid back (refunds of cards)
    points_earned: int = 0
    points_used: int = 0
    points_expired: int = 0
    deferred_at_end: int = 0  # paid for uses not used yet and passes not ended
    points_at_end: int = 0

    @property
    def any(self) -> bool:
        return any(value for value in vars(self).values())


def figures(
    start: date, end: date, *, store: int | None = None, now: datetime | None = None
) -> ProgramFigures:
    """The programs over the shop's days ``start`` to ``end`` (both included)."""
    now = now or timezone.now()
    tz = days.zone()
    begin, finish = days.bounds(start, tz)[0], min(days.bounds(end, tz)[1], now)
    moments = [connection.ops.adapt_datetimefield_value(m) for m in (begin, finish)]
    where = "AND t.store_id = %s" if store is not None else ""
    extra = [store] if store is not None else []
    found = ProgramFigures()
    with connection.cursor() as cursor:
        cursor.execute(MOVED.format(store=where), [*moments, *extra])
        for code, debit, credit, debit_unit, credit_unit, count, total in cursor.fetchall():
            total, count = int(total or 0), int(count)
            if code == "redeem" and debit == "units" and debit_unit == "pc":
                found.card_uses += total
            elif code == "redeem" and credit == "units" and credit_unit == "ps":
                found.pass_uses += total
            elif code == "recognise":
                found.recognised += total
            elif code == "expiry" and debit == "units":
                found.uses_expired += total
            elif code == "expiry" and debit == "deferred" and credit == "breakage":
                found.breakage += total
            elif code == "expiry" and debit == "deferred" and credit == "revenue":
                found.passes_earned += count
                found.passes_revenue += total
            elif code == "expiry" and debit == "points":
                found.points_expired += total
            elif code == "return":
                found.uses_refunded += total
            elif code == "points":
                found.points_earned += total
            elif code == "points_used":
                found.points_used += total
        held_where = "AND a.store_id = %s" if store is not None else ""
        cursor.execute(HELD.format(store=held_where), ["deferred", moments[1], *extra])
        found.deferred_at_end = int(cursor.fetchone()[0])
        cursor.execute(HELD.format(store=""), ["points", moments[1]])
        found.points_at_end = int(cursor.fetchone()[0])
    return found
