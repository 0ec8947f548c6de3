"""Statements: what came in, by which channel; what was consumed, of which product; what
was given back or reversed; and what was owed to customers before and after — for any
span of the shop's days, the whole chain or one store, counter or staff member.

Every figure is a sum of postings: summarised days add up their ``FlowDay`` rows, the
others (today; a day not summarised yet) are read from the ledger (``flows``), and both
come from the same queries. What was owed is chain-wide — a balance can be spent in
every store — and never nets credit against paid money: ``paid`` is the paid balances
above zero, ``credit`` what customers owe the shop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from prepaid.catalog.models import Product
from prepaid.ledger.models import PaymentMethod
from prepaid.reports import days
from prepaid.reports.flows import QUANTITY, Measure, Owed, Who, flows, liability_change
from prepaid.reports.models import FlowDay, Interim, InterimFlow, LiabilityDay
from prepaid.staff.models import Business


@dataclass(frozen=True)
class Scope:
    """Whose postings a statement counts: the whole chain, or one store, counter (the
    enrolled device), staff member or API token."""

    store: int | None = None
    device: int | None = None
    staff: int | None = None
    token: int | None = None

    def admits(self, who: Who) -> bool:
        store, device, staff, token = who
        return all(
            wanted is None or wanted == found
            for wanted, found in (
                (self.store, store),
                (self.device, device),
                (self.staff, staff),
                (self.token, token),
            )
        )

    def filters(self) -> dict[str, int]:
        named = {
            "store_id": self.store,
            "device_id": self.device,
            "staff_id": self.staff,
            "api_token_id": self.token,
        }
        return {name: value for name, value in named.items() if value is not None}


@dataclass(frozen=True)
class TopUps:
    method: PaymentMethod
    count: int
    amount: int
    bonus: int


@dataclass(frozen=True)
class Packages:
    """Punch cards sold through one payment method: the money is paid in now and becomes
    revenue use by use."""

    method: PaymentMethod
    count: int
    amount: int


@dataclass(frozen=True)
class Sales:
    product: Product
    count: int
    quantity: Decimal
    amount: int
    from_bonus: int

    @property
    def from_paid(self) -> int:
        return self.amount - self.from_bonus


@dataclass(frozen=True)
class Refunds:
    method: PaymentMethod
    count: int
    amount: int
    forfeited: int  # bonus forfeited with the refunds


@dataclass(frozen=True)
class Reversals:
    """Reversals of one kind of transaction (and payment method, for top-ups and
    refunds): the paid and bonus money they moved back."""

    original: str  # the reversed transactions' code: top_up, sale, refund…
    method: PaymentMethod | None
    count: int
    paid: int
    bonus: int


@dataclass(frozen=True)
class Other:
    """Opening balances, adjustments, expiry: money put on (or, negative, taken off)
    customer accounts for another reason than a payment or a sale."""

    code: str
    count: int
    paid: int
    bonus: int


@dataclass
class Statement:
    start: date
    end: date
    scope: Scope
    currency: str
    top_ups: list[TopUps] = field(default_factory=list)
    packages: list[Packages] = field(default_factory=list)
    sales: list[Sales] = field(default_factory=list)
    refunds: list[Refunds] = field(default_factory=list)
    reversals: list[Reversals] = field(default_factory=list)
    others: list[Other] = field(default_factory=list)
    opening: Owed = field(default_factory=Owed)
    closing: Owed = field(default_factory=Owed)

    @property
    def net_change(self) -> int:
        """Closing minus opening of what customers can spend (paid + bonus)."""
        return self.closing.total - self.opening.total

    @property
    def reversal_count(self) -> int:
        return sum(line.count for line in self.reversals)

    @property
    def reversal_amount(self) -> int:
        """Gross, like a Z-report: the paid and bonus money all reversals moved."""
        return sum(line.paid + line.bonus for line in self.reversals)

    @property
    def top_up_total(self) -> Measure:
        return _total((line.count, line.amount, line.bonus) for line in self.top_ups)

    @property
    def package_total(self) -> Measure:
        return _total((line.count, line.amount, 0) for line in self.packages)

    @property
    def sale_total(self) -> Measure:
        return _total((line.count, line.amount, line.from_bonus) for line in self.sales)

    @property
    def refund_total(self) -> Measure:
        return _total((line.count, line.amount, line.forfeited) for line in self.refunds)


def _total(rows: Iterable[tuple[int, int, int]]) -> Measure:
    total = Measure()
    for count, amount, bonus in rows:
        total.add(Measure(count, amount, bonus))
    return total


def statement(
    start: date, end: date, scope: Scope | None = None, *, now: datetime | None = None
) -> Statement:
    """The statement of the shop's days ``start`` to ``end`` (both included)."""
    scope = scope or Scope()
    now = now or timezone.now()
    found = lines(
        Statement(start, end, scope, Business.get().currency), _moved(start, end, scope, now)
    )
    found.opening = days.owed_before(days.bounds(start)[0])
    found.closing = days.owed_at_end(end, now)
    return found


def lines(found: Statement, moved: dict[tuple[str, str], Measure]) -> Statement:
    """``found`` with the lines of what ``moved`` (``flows``' sums by kind and key):
    top-ups and refunds by method, sales by product, reversals by what they reversed,
    the other movements; each list in the order the shop gave its methods and products."""
    methods = {str(m.pk): m for m in PaymentMethod.objects.all()}
    sold = [int(key) for kind, key in moved if kind == "sale"]
    products = {str(p.pk): p for p in Product.objects.filter(pk__in=sold)}
    for (kind, key), measure in sorted(moved.items()):
        count, amount, bonus = measure.count, measure.amount, measure.bonus
        if kind == "top_up":
            found.top_ups.append(TopUps(methods[key], count, amount, bonus))
        elif kind == "package":
            found.packages.append(Packages(methods[key], count, amount))
        elif kind == "sale":
            found.sales.append(Sales(products[key], count, measure.quantity, amount, bonus))
        elif kind == "refund":
            found.refunds.append(Refunds(methods[key], count, amount, bonus))
        elif kind == "reversal":
            original, method = key.split(":")
            found.reversals.append(Reversals(original, methods.get(method), count, amount, bonus))
        else:
            found.others.append(Other(kind, count, amount, bonus))
    found.top_ups.sort(key=lambda line: (line.method.position, line.method.name))
    found.packages.sort(key=lambda line: (line.method.position, line.method.name))
    found.sales.sort(key=lambda line: (line.product.position, line.product.name))
    found.refunds.sort(key=lambda line: (line.method.position, line.method.name))
    return found


def _moved(start: date, end: date, scope: Scope, now: datetime) -> dict[tuple[str, str], Measure]:
    """(kind, key) → measure over the days: summarised ones from their rows, the rest
    from the ledger, one span per run of days not summarised."""
    done = set(LiabilityDay.objects.filter(day__range=(start, end)).values_list("day", flat=True))
    moved: dict[tuple[str, str], Measure] = defaultdict(Measure)
    _add_rows(moved, FlowDay.objects.filter(day__in=done, **scope.filters()))
    for first, last in _runs(start, end, done):
        span_start, span_end = days.bounds(first)[0], min(days.bounds(last)[1], now)
        kept = Interim.objects.filter(day__range=(first, last), until__lte=span_end).first()
        if kept is not None:
            # Today so far is kept by the worker up to a few minutes ago: its rows, and
            # the ledger before its day and after its moment.
            _add_rows(moved, InterimFlow.objects.filter(interim=kept, **scope.filters()))
            _add_flows(moved, span_start, days.bounds(kept.day)[0], scope)
            span_start = kept.until
        _add_flows(moved, span_start, span_end, scope)
    return dict(moved)


def _add_rows(moved: dict[tuple[str, str], Measure], rows: QuerySet[Any]) -> None:
    """Add up summarised rows (``FlowDay``, ``InterimFlow``) by kind and key."""
    sums = rows.values("kind", "key").annotate(
        count=Sum("count"), amount=Sum("amount"), bonus=Sum("bonus"), quantity=Sum("quantity")
    )
    for row in sums:
        quantity = Decimal(str(row["quantity"])).quantize(QUANTITY)
        moved[(row["kind"], row["key"])].add(
            Measure(int(row["count"]), int(row["amount"]), int(row["bonus"]), quantity)
        )


def _add_flows(
    moved: dict[tuple[str, str], Measure], start: datetime, end: datetime, scope: Scope
) -> None:
    """Add up what the ledger holds from ``start`` to ``end``, within ``scope``."""
    if start >= end:
        return
    for (who, kind, key), measure in flows(start, end).items():
        if scope.admits(who):
            moved[(kind, key)].add(measure)


def _runs(start: date, end: date, done: set[date]) -> list[tuple[date, date]]:
    """The runs of days from ``start`` to ``end`` that are not in ``done``."""
    runs: list[tuple[date, date]] = []
    day = start
    while day <= end:
        if day in done:
            day += timedelta(days=1)
            continue
        first = day
        while day + timedelta(days=1) <= end and day + timedelta(days=1) not in done:
            day += timedelta(days=1)
        runs.append((first, day))
        day += timedelta(days=1)
    return runs


@dataclass(frozen=True)
class OwedDay:
    day: date
    owed: Owed


def liability_series(start: date, end: date, *, now: datetime | None = None) -> list[OwedDay]:
    """What was owed at the end of each day from ``start`` to ``end`` (today: now)."""
    now = now or timezone.now()
    last = min(end, days.today(now))
    stored = {
        row.day: days.owed_of(row) for row in LiabilityDay.objects.filter(day__range=(start, last))
    }
    kept = {row.day: row for row in Interim.objects.filter(day__range=(start, last))}
    tz = days.zone()
    series: list[OwedDay] = []
    previous: Owed | None = None
    day = start
    while day <= last:
        begin, finish = days.bounds(day, tz)
        if day in stored:
            owed = stored[day]
        elif day in kept and kept[day].until <= min(finish, now):
            owed = days.owed_of(kept[day]) + liability_change(kept[day].until, min(finish, now))
        elif previous is not None:
            owed = previous + liability_change(begin, min(finish, now))
        else:
            owed = days.owed_at_end(day, now)
        series.append(OwedDay(day, owed))
        previous = owed
        day += timedelta(days=1)
    return series
