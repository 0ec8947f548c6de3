"""Ledger invariants, checked by ``prepaid verify`` and after every test scenario.

Each check is one or two aggregate queries, so verifying a million transfers is a scan,
not a loop in Python. A violation is reported, never repaired: repairs are reversals
made by a person who understands what went wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Q, Sum

from prepaid.ledger.models import Account, Batch, Transfer


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.detail}"


def _sums(field: str) -> dict[int, int]:
    rows = Transfer.objects.values(field).annotate(total=Sum("amount"))
    return {row[field]: int(row["total"]) for row in rows}


def cached_totals() -> list[Violation]:
    """Every customer account's cached totals equal the sums of its transfers, and house
    accounts cache nothing."""
    debits, credits = _sums("debit_account"), _sums("credit_account")
    problems = []
    for account in Account.objects.only("id", "floor", "debits_posted", "credits_posted"):
        if not account.is_cached:
            if account.debits_posted or account.credits_posted:
                problems.append(Violation("totals", f"house account {account.pk} caches totals"))
            continue
        expected = (debits.get(account.pk, 0), credits.get(account.pk, 0))
        cached = (account.debits_posted, account.credits_posted)
        if cached != expected:
            problems.append(
                Violation(
                    "totals",
                    f"account {account.pk}: cached debits/credits {cached}, "
                    f"transfers sum to {expected}",
                )
            )
    return problems


def floors() -> list[Violation]:
    """No customer account is below its floor."""
    below = Account.objects.filter(floor__isnull=False).filter(
        credits_posted__lt=F("debits_posted") + F("floor")
    )
    return [
        Violation(
            "floor",
            f"account {account.pk}: balance {account.cached_balance} below floor {account.floor}",
        )
        for account in below
    ]


def batches_complete() -> list[Violation]:
    """Every batch has exactly the transfers it announced."""
    incomplete = Batch.objects.annotate(found=Count("transfers")).exclude(found=F("transfer_count"))
    return [
        Violation(
            "batch",
            f"transaction {batch.pk} ({batch.key}): {batch.found} of "
            f"{batch.transfer_count} transfers",
        )
        for batch in incomplete
    ]


def reversals_match() -> list[Violation]:
    """Every reversal is the exact mirror of its original, transfer by transfer."""
    problems = []
    reversals = Batch.objects.filter(Q(code=Batch.Code.REVERSAL) | Q(reverses__isnull=False))
    for reversal in reversals.select_related("reverses"):
        original = reversal.reverses
        if original is None or reversal.code != Batch.Code.REVERSAL:
            problems.append(Violation("reversal", f"transaction {reversal.pk} is half a reversal"))
            continue
        mirrored = Counter(
            (t.credit_account_id, t.debit_account_id, t.amount, t.pk)
            for t in original.transfers.all()
        )
        found = Counter(
            (t.debit_account_id, t.credit_account_id, t.amount, t.reverses_id)
            for t in reversal.transfers.all()
        )
        if mirrored != found:
            problems.append(
                Violation(
                    "reversal",
                    f"transaction {reversal.pk} does not mirror transaction {original.pk}",
                )
            )
    return problems


# Each side of a transfer that moved a customer account, with the balance it says it
# left and the account's running total at that transfer (in id order: the order the
# guarded UPDATEs locked the account in).
RUNNING = """
WITH moves AS (
    SELECT t.id, t.debit_account_id AS account, -t.amount AS delta,
           t.debit_balance_after AS stored
    FROM ledger_transfer t JOIN ledger_account a ON a.id = t.debit_account_id
    WHERE a.floor IS NOT NULL
    UNION ALL
    SELECT t.id, t.credit_account_id, t.amount, t.credit_balance_after
    FROM ledger_transfer t JOIN ledger_account a ON a.id = t.credit_account_id
    WHERE a.floor IS NOT NULL
), running AS (
    SELECT id, account, stored, SUM(delta) OVER (
        PARTITION BY account ORDER BY id ROWS UNBOUNDED PRECEDING
    ) AS balance
    FROM moves
)
SELECT id, account, stored, balance FROM running
WHERE stored IS NULL OR stored <> balance
ORDER BY id LIMIT 20
"""


def running_balances() -> list[Violation]:
    """The balance each transfer says it left on a customer account is that account's
    running total at the transfer (its last one is then the cached balance: [totals])."""
    with connection.cursor() as cursor:
        cursor.execute(RUNNING)
        found = cursor.fetchall()
    return [
        Violation(
            "running",
            f"transfer {transfer}: account {account} was left at {balance}, "
            f"the transfer says {stored}",
        )
        for transfer, account, stored, balance in found
    ]


CHECKS: list[Callable[[], list[Violation]]] = [
    cached_totals,
    floors,
    batches_complete,
    reversals_match,
    running_balances,
]


def register(check: Callable[[], list[Violation]]) -> None:
    """A check of an app above the ledger (sale lines agree with the money they moved…),
    run by ``verify`` with the ledger's own. Registered from that app's ``ready()``."""
    if check not in CHECKS:
        CHECKS.append(check)


def verify() -> list[Violation]:
    """All violations of all checks; an empty list means the ledger is sound."""
    return [violation for check in CHECKS for violation in check()]
