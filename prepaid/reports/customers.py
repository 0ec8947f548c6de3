"""The customer list as the back office shows it: balances and last activity joined in
by subqueries, so a page of 50 is one query whatever the ledger's size."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import BigIntegerField, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.models import Account, Batch
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


def history(customer: Customer, *, limit: int = 50) -> list[tuple[Batch, int, int]]:
    """The customer's transactions, newest first: (batch, paid change, bonus change)."""
    batches = (
        Batch.objects.filter(customer=customer)
        .select_related("store", "staff", "reversed_by")
        .prefetch_related(
            "transfers__debit_account", "transfers__credit_account", "sale_lines__product"
        )
        .order_by("-id")[:limit]
    )
    return [(batch, *customer_change(batch)) for batch in batches]


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
