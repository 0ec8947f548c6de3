"""Read-only figures from the ledger. Every figure is a sum of transfers or of cached
totals that ``prepaid verify`` proves equal to them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet, Sum

from prepaid.ledger.models import Account, Batch


@dataclass(frozen=True)
class Liability:
    """What the business owes its customers, in minor units."""

    paid: int
    bonus: int
    customers_with_balance: int

    @property
    def total(self) -> int:
        return self.paid + self.bonus


def liability() -> Liability:
    rows = (
        Account.objects.filter(customer__isnull=False)
        .values("kind")
        .annotate(total=Sum(F("credits_posted") - F("debits_posted")))
    )
    totals = {row["kind"]: int(row["total"] or 0) for row in rows}
    holders = (
        Account.objects.filter(customer__isnull=False, credits_posted__gt=F("debits_posted"))
        .values("customer")
        .distinct()
        .count()
    )
    return Liability(
        paid=totals.get(Account.Kind.WALLET, 0),
        bonus=totals.get(Account.Kind.BONUS, 0),
        customers_with_balance=holders,
    )


def recent_batches(limit: int = 20) -> QuerySet[Batch]:
    return Batch.objects.select_related("customer", "store", "staff", "reversed_by").order_by(
        "-id"
    )[:limit]


def customer_change(batch: Batch) -> tuple[int, int]:
    """What a batch did to its customer's (paid, bonus) balance; transfers prefetched."""
    change: dict[str, int] = {Account.Kind.WALLET: 0, Account.Kind.BONUS: 0}
    for transfer in batch.transfers.all():
        for account, sign in ((transfer.credit_account, 1), (transfer.debit_account, -1)):
            if account.customer_id == batch.customer_id and account.kind in change:
                change[account.kind] += sign * transfer.amount
    return change[Account.Kind.WALLET], change[Account.Kind.BONUS]
