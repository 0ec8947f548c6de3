"""Read-only figures from the ledger. Every figure is a sum of transfers or of cached
totals that ``prepaid verify`` proves equal to them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Sum

from prepaid.ledger.models import Account, Batch


@dataclass(frozen=True)
class Liability:
    """What the business owes its customers now, in minor units: the paid balances above
    zero, the bonus, and — apart, never netted — the credit customers owe the shop (the
    paid balances below zero, as a positive amount)."""

    paid: int
    bonus: int
    credit: int
    customers_with_balance: int

    @property
    def total(self) -> int:
        return self.paid + self.bonus


def liability() -> Liability:
    positive = Q(credits_posted__gt=F("debits_posted"))
    wallets = Account.objects.filter(customer__isnull=False, kind=Account.Kind.WALLET)
    net = F("credits_posted") - F("debits_posted")
    paid = wallets.filter(positive).aggregate(total=Sum(net))["total"] or 0
    owing = wallets.filter(credits_posted__lt=F("debits_posted")).aggregate(total=Sum(net))
    bonus = (
        Account.objects.filter(customer__isnull=False, kind=Account.Kind.BONUS).aggregate(
            total=Sum(net)
        )["total"]
        or 0
    )
    holders = (
        Account.objects.filter(positive, customer__isnull=False, kind__in=Account.CUSTOMER_KINDS)
        .values("customer")
        .distinct()
        .count()
    )
    return Liability(
        paid=int(paid),
        bonus=int(bonus),
        credit=-int(owing["total"] or 0),
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
