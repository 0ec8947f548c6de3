"""Matching a provider's settlement lines to our transactions of the same payment method.

Plain values in, pairs out; no database. The rules, in order:

1. **Reference.** A line whose reference (compared without case and surrounding spaces)
   is that of one of our transactions is that transaction's line: matched when the
   amounts are equal (first, for every line: the order of the lines does not matter).
   When they differ, neither is matched to anything else (the file names that
   transaction; a person looks at both): both are reported "amount differs".
2. **Amount and time.** Each line left, in time order, takes the transaction left with
   the same amount that is nearest in time, at most ``window`` away (a line with a
   date only: the same day of the shop). Equally near: the older transaction.

Amounts are signed: a top-up is positive, a refund negative, on both sides.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Theirs:
    key: int  # the line's id (or row)
    moment: datetime
    day: date  # the shop's day of ``moment``
    has_time: bool
    amount_minor: int
    reference: str


@dataclass(frozen=True)
class Ours:
    key: int  # the batch's id
    moment: datetime
    day: date
    amount_minor: int
    reference: str


@dataclass
class Matches:
    pairs: dict[int, tuple[int, str]] = field(default_factory=dict)  # line → (batch, rule)
    differing: set[tuple[int, int]] = field(default_factory=set)  # (line, batch): amounts differ

    @property
    def lines(self) -> set[int]:
        return set(self.pairs)

    @property
    def batches(self) -> set[int]:
        return {batch for batch, _rule in self.pairs.values()}


def _normal(reference: str) -> str:
    return reference.strip().casefold()


def match(theirs: list[Theirs], ours: list[Ours], *, window: timedelta) -> Matches:
    """Pair lines with transactions by the rules of the module docstring."""
    found = Matches()
    by_reference: dict[str, list[Ours]] = {}
    for transaction in sorted(ours, key=lambda o: o.key):
        if reference := _normal(transaction.reference):
            by_reference.setdefault(reference, []).append(transaction)
    named: set[int] = set()  # batches a line's reference names: not for rule 2
    taken: set[int] = set()
    referring: list[Theirs] = []
    rest: list[Theirs] = []
    for line in sorted(theirs, key=lambda t: (t.moment, t.key)):
        (referring if _normal(line.reference) in by_reference else rest).append(line)
    # 1a. Same reference and amount, whatever the order of the lines: a line that names
    # a transaction with another amount must not keep it from its true line.
    differ: list[Theirs] = []
    for line in referring:
        same = next(
            (
                o
                for o in by_reference[_normal(line.reference)]
                if o.amount_minor == line.amount_minor and o.key not in taken
            ),
            None,
        )
        if same is None:
            differ.append(line)
            continue
        found.pairs[line.key] = (same.key, "reference")
        taken.add(same.key)
    # 1b. The amounts differ: report both, match neither. A line whose transactions
    # were all taken by other lines (a line listed twice) is left to rule 2.
    for line in differ:
        candidates = [o for o in by_reference[_normal(line.reference)] if o.key not in taken]
        if not candidates:
            rest.append(line)
            continue
        named.update(o.key for o in candidates)
        found.differing.update((line.key, o.key) for o in candidates)
    rest.sort(key=lambda t: (t.moment, t.key))
    _by_time(rest, [o for o in ours if o.key not in taken and o.key not in named], window, found)
    return found


def _by_time(rest: list[Theirs], left: list[Ours], window: timedelta, found: Matches) -> None:
    """Rule 2. Our transactions are indexed by amount (and day), in time order, so a
    line looks only at those within its window: a file of 20,000 lines against as many
    transactions is matched in moments, not hours."""
    by_amount: dict[int, list[Ours]] = {}
    by_day: dict[tuple[int, date], list[Ours]] = {}
    for transaction in sorted(left, key=lambda o: (o.moment, o.key)):
        by_amount.setdefault(transaction.amount_minor, []).append(transaction)
        by_day.setdefault((transaction.amount_minor, transaction.day), []).append(transaction)
    moments = {amount: [o.moment for o in listed] for amount, listed in by_amount.items()}
    taken: set[int] = set()
    for line in rest:
        if line.has_time:
            listed = by_amount.get(line.amount_minor, [])
            times = moments.get(line.amount_minor, [])
            first = bisect_left(times, line.moment - window)
            last = bisect_right(times, line.moment + window)
            fitting = [o for o in listed[first:last] if o.key not in taken]
        else:
            listed = by_day.get((line.amount_minor, line.day), [])
            fitting = [o for o in listed if o.key not in taken]
        if fitting:
            best = min(fitting, key=lambda o: (abs(o.moment - line.moment), o.moment, o.key))
            found.pairs[line.key] = (best.key, "time")
            taken.add(best.key)
