"""What a close (or an X-report) shows: the statement of its span, what each payment
method should have brought in, and the corrections of days already closed.

The lines are those of ``reports.statements`` (top-ups by method, sales by product,
refunds, reversals by what they reversed), read from the ledger with the same queries
(``reports.flows``) over the close's span, which need not be a whole day.

What a payment method should have brought in, over the span:

    its top-ups + its punch cards sold − its refunds
    − its top-ups and punch cards reversed + its refunds reversed

and for cash, what should be in the drawer is that plus the opening float.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, Q

from prepaid.closing.models import DayClose
from prepaid.closing.spans import Place, Span
from prepaid.ledger.models import Account, Batch, PaymentMethod
from prepaid.reports import days
from prepaid.reports.flows import Measure, flows
from prepaid.reports.statements import Scope, Statement, lines
from prepaid.staff.models import Business

CASH = "cash"  # the payment method counted in the drawer


def figures(place: Place, span: Span) -> Statement:
    """The statement of ``place`` over ``span``. What was owed (chain-wide) is not part
    of a close: ``opening`` and ``closing`` stay empty."""
    return statement_of(span.starts_at, span.ends_at, place.scope, day=span.day)


def statement_of(start: datetime, end: datetime, scope: Scope, *, day: date) -> Statement:
    """The lines of ``scope``'s postings from ``start`` to ``end`` (excluded), read with
    the statements' queries; the span need not be a whole day."""
    moved: dict[tuple[str, str], Measure] = defaultdict(Measure)
    if start < end:
        for (who, kind, key), measure in flows(start, end).items():
            if scope.admits(who):
                moved[(kind, key)].add(measure)
    return lines(Statement(day, day, scope, Business.get().currency), moved)


@dataclass(frozen=True)
class Channel:
    """One payment method over a span: what came in and went out through it."""

    method: PaymentMethod
    top_ups: int = 0
    refunds: int = 0
    reversed_top_ups: int = 0
    reversed_refunds: int = 0
    packages: int = 0
    reversed_packages: int = 0

    @property
    def net(self) -> int:
        """What it should have brought in (see the module docstring)."""
        return (
            self.top_ups
            + self.packages
            - self.refunds
            - self.reversed_top_ups
            - self.reversed_packages
            + self.reversed_refunds
        )

    @property
    def reversed_in(self) -> int:
        """Money paid in through it (top-ups, punch cards) and reversed."""
        return self.reversed_top_ups + self.reversed_packages

    @property
    def is_cash(self) -> bool:
        return self.method.code == CASH


def channels(found: Statement, *, also: list[PaymentMethod] | None = None) -> list[Channel]:
    """Each payment method the statement moved money through (and those in ``also``,
    with nothing moved), cash first, then in the methods' order."""
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    methods: dict[int, PaymentMethod] = {method.pk: method for method in also or []}
    for top_up in found.top_ups:
        methods[top_up.method.pk] = top_up.method
        sums[top_up.method.pk]["top_ups"] += top_up.amount
    for package in found.packages:
        methods[package.method.pk] = package.method
        sums[package.method.pk]["packages"] += package.amount
    for refund in found.refunds:
        methods[refund.method.pk] = refund.method
        sums[refund.method.pk]["refunds"] += refund.amount
    for line in found.reversals:
        if line.method is None or line.original not in ("top_up", "refund", "package"):
            continue
        methods[line.method.pk] = line.method
        sums[line.method.pk][f"reversed_{line.original}s"] += line.paid
    made = [Channel(method, **sums[pk]) for pk, method in methods.items()]
    return sorted(made, key=lambda c: (not c.is_cash, c.method.position, c.method.name))


def totals(found: Statement) -> dict[str, dict[str, int]]:
    """The span's totals, kept with a close (the list of closes and the API show them)."""
    top_ups, sold, refunds = found.top_up_total, found.sale_total, found.refund_total
    packages = found.package_total
    return {
        "top_ups": {"count": top_ups.count, "amount": top_ups.amount, "bonus": top_ups.bonus},
        "packages": {"count": packages.count, "amount": packages.amount},
        "sales": {"count": sold.count, "amount": sold.amount, "from_bonus": sold.bonus},
        "refunds": {"count": refunds.count, "amount": refunds.amount, "forfeited": refunds.bonus},
        "reversals": {"count": found.reversal_count, "amount": found.reversal_amount},
    }


# -- corrections of closed days ----------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """A reversal, made in the span, of a transaction of a day that was already closed:
    the closed day keeps its figures, and the correction is reported here."""

    reversal: Batch
    original: Batch
    close: DayClose  # the close that covered the original
    method: PaymentMethod | None
    paid: int
    bonus: int

    def as_json(self) -> dict[str, Any]:
        return {
            "transaction": self.reversal.pk,
            "reverses": self.original.pk,
            "original": self.original.code,
            "method": self.method.code if self.method else None,
            "paid_minor": self.paid,
            "bonus_minor": self.bonus,
            "close": {"number": self.close.number, "day": self.close.day.isoformat()},
        }


def corrections(start: datetime, end: datetime, scope: Scope) -> list[Correction]:
    """Reversals posted from ``start`` to ``end`` (excluded) by ``scope`` whose original
    lies in a closed span (of its store, or of its counter) that ended before ``start``
    — a correction of a closed day."""
    reversals = (
        Batch.objects.filter(
            code=Batch.Code.REVERSAL, created_at__gte=start, created_at__lt=end, **scope.filters()
        )
        .select_related("reverses")
        .prefetch_related(
            "transfers__debit_account__payment_method",
            "transfers__credit_account__payment_method",
        )
        .order_by("id")
    )
    found: list[Correction] = []
    for reversal in reversals:
        original = reversal.reverses
        if original is None or original.created_at >= start:
            continue
        close = _close_of(original)
        if close is not None:
            found.append(_correction(reversal, original, close))
    return found


def corrections_of_days(first: date, last: date, scope: Scope) -> list[Correction]:
    """The corrections of closed days made in the shop's days ``first`` to ``last``: the
    statement page's section "Corrections of closed days"."""
    return corrections(days.bounds(first)[0], days.bounds(last)[1], scope)


def _close_of(original: Batch) -> DayClose | None:
    """The close whose span holds ``original``: its store's, else its counter's."""
    covering = DayClose.objects.filter(
        store_id=original.store_id,
        starts_at__lte=original.created_at,
        ends_at__gt=original.created_at,
    ).filter(Q(device__isnull=True) | Q(device_id=original.device_id))
    # The store's close first: its device is NULL, which PostgreSQL sorts last unless
    # told otherwise (SQLite sorts it first).
    return covering.order_by(F("device_id").asc(nulls_first=True), "id").first()


def _correction(reversal: Batch, original: Batch, close: DayClose) -> Correction:
    paid = bonus = 0
    method = None
    for transfer in reversal.transfers.all():
        kinds = (transfer.debit_account.kind, transfer.credit_account.kind)
        if Account.Kind.WALLET in kinds:
            paid += transfer.amount
        elif Account.Kind.BONUS in kinds:
            bonus += transfer.amount
        for account in (transfer.debit_account, transfer.credit_account):
            if account.payment_method_id is not None:
                method = account.payment_method
    return Correction(reversal, original, close, method, paid, bonus)
