"""The customer list as the back office shows it: balances and last activity joined in
by subqueries, so a page of 50 is one query whatever the ledger's size."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    BigIntegerField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.reports.queries import customer_change
from prepaid.sales.models import SaleLine


def _balance(kind: Account.Kind) -> Coalesce:
    accounts = Account.objects.filter(customer=OuterRef("pk"), kind=kind).annotate(
        net=F("credits_posted") - F("debits_posted")
    )
    return Coalesce(Subquery(accounts.values("net")[:1], output_field=BigIntegerField()), Value(0))


def with_balances(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    last = Batch.objects.filter(customer=OuterRef("pk")).order_by("-id").values("created_at")
    return customers.annotate(
        paid=_balance(Account.Kind.WALLET),
        bonus=_balance(Account.Kind.BONUS),
        last_activity=Subquery(last[:1]),
    )


def filtered(
    customers: QuerySet[Customer],
    *,
    tag: str = "",
    has_balance: bool = False,
    dormant_days: int | None = None,
    status: str = "",
) -> QuerySet[Customer]:
    if tag:
        customers = customers.filter(tags__name=tag)
    if status:
        customers = customers.filter(status=status)
    if has_balance:
        holding = Account.objects.filter(
            customer=OuterRef("pk"), credits_posted__gt=F("debits_posted")
        )
        customers = customers.filter(Exists(holding))
    if dormant_days is not None:
        since = timezone.now() - timedelta(days=dormant_days)
        recent = Batch.objects.filter(customer=OuterRef("pk"), created_at__gte=since)
        customers = customers.filter(~Exists(recent))
    return customers


def _batches(customer: Customer) -> QuerySet[Batch]:
    return (
        Batch.objects.filter(customer=customer)
        .select_related("store", "staff", "reversed_by")
        .prefetch_related(
            "transfers__debit_account", "transfers__credit_account", "sale_lines__product"
        )
    )


def history(
    customer: Customer, *, limit: int = 50, offset: int = 0
) -> list[tuple[Batch, int, int]]:
    """The customer's transactions, newest first: (batch, paid change, bonus change);
    ``offset`` skips that many (a page further back)."""
    batches = _batches(customer).order_by("-id")[offset : offset + limit]
    return [(batch, *customer_change(batch)) for batch in batches]


@dataclass(frozen=True)
class Statement:
    """One customer's month: the balances at its start, each transaction with the
    balances after it, and the balances at its end (paid, bonus; minor units)."""

    start: datetime
    end: datetime
    opening: tuple[int, int]
    rows: list[tuple[Batch, int, int, int, int]]  # batch, paid, bonus, paid after, bonus after
    closing: tuple[int, int]


def statement(customer: Customer, start: datetime, end: datetime) -> Statement:
    """The customer's statement from ``start`` to ``end`` (a month, in the shop's time
    zone): what the ledger moved on their accounts before it, then each transaction."""
    paid, bonus = _moved_before(customer, start)
    opening = (paid, bonus)
    rows = []
    for batch in (
        _batches(customer).filter(created_at__gte=start, created_at__lt=end).order_by("id")
    ):
        change = customer_change(batch)
        paid, bonus = paid + change[0], bonus + change[1]
        rows.append((batch, change[0], change[1], paid, bonus))
    return Statement(start, end, opening, rows, (paid, bonus))


def _moved_before(customer: Customer, moment: datetime) -> tuple[int, int]:
    """(paid, bonus) balance of the customer at ``moment``, from the ledger's transfers."""
    totals = {}
    for kind in (Account.Kind.WALLET, Account.Kind.BONUS):
        before = Transfer.objects.filter(batch__created_at__lt=moment)
        credits = before.filter(credit_account__customer=customer, credit_account__kind=kind)
        debits = before.filter(debit_account__customer=customer, debit_account__kind=kind)
        totals[kind] = int(credits.aggregate(s=Sum("amount"))["s"] or 0) - int(
            debits.aggregate(s=Sum("amount"))["s"] or 0
        )
    return totals[Account.Kind.WALLET], totals[Account.Kind.BONUS]


def statement_months(customer: Customer, zone: str, *, count: int = 12) -> list[date]:
    """The first days of the latest ``count`` months with a transaction of the customer,
    newest first, in the shop's time zone."""
    moments = (
        Batch.objects.filter(customer=customer).order_by("-id").values_list("created_at", flat=True)
    )
    months: list[date] = []
    tz = zoneinfo.ZoneInfo(zone)
    for moment in moments[:2000]:
        local = moment.astimezone(tz)
        first = date(local.year, local.month, 1)
        if first not in months:
            months.append(first)
            if len(months) == count:
                break
    return months


def last_sale(customer: Customer) -> SaleLine | None:
    """The line of the customer's last sale not reversed, when it was one line of a
    product still sold: what "repeat last sale" repeats."""
    batch = (
        Batch.objects.filter(customer=customer, code=Batch.Code.SALE, reversed_by__isnull=True)
        .prefetch_related("sale_lines__product")
        .order_by("-id")
        .first()
    )
    lines = list(batch.sale_lines.all()) if batch else []
    if len(lines) != 1 or not lines[0].product.active:
        return None
    return lines[0]
