"""``prepaid verify``'s check of the punch cards and passes: each store's deferred money
(paid for uses not redeemed yet) is, over the cards it sold and did not take back, their
price less what their uses have taken out of it (revenue, breakage), and the price of
the passes it sold, did not take back and has not earned (when they ended)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q, Sum

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account
from prepaid.ledger.verify import Violation
from prepaid.programs.models import Pass, PunchCard, PunchUse


def deferred_money() -> list[Violation]:
    sold = PunchCard.objects.filter(batch__isnull=False, batch__reversed_by__isnull=True)
    held: dict[int, int] = defaultdict(int)
    for row in sold.values("store_id").annotate(total=Sum("price_minor")):
        held[row["store_id"]] += int(row["total"] or 0)
    used = PunchUse.objects.filter(batch__reversed_by__isnull=True, card__in=sold)
    for store, total in used.values_list("card__store_id").annotate(total=Sum("value")):
        held[store] -= int(total or 0)
    waiting = Pass.objects.filter(batch__isnull=False, batch__reversed_by__isnull=True).filter(
        Q(earned__isnull=True) | Q(earned__reversed_by__isnull=False)
    )
    for store, total in waiting.values_list("store_id").annotate(total=Sum("price_minor")):
        held[store] += int(total or 0)
    violations = _kept_recognised()
    booked: dict[int, int] = defaultdict(int)
    for account in Account.objects.filter(kind=Account.Kind.DEFERRED, customer__isnull=True):
        booked[int(account.store_id or 0)] += ledger.balance(account)
    return violations + [
        Violation(
            "punch_cards",
            f"store {store}: deferred money is {booked.get(store, 0)}, the uses not redeemed"
            f" on its punch cards and its passes not ended are worth {held.get(store, 0)}",
        )
        for store in sorted(set(held) | set(booked))
        if booked.get(store, 0) != held.get(store, 0)
    ]


def _kept_recognised() -> list[Violation]:
    """Each card's running total of what it made revenue equals its uses' sum."""
    sums = dict(
        PunchUse.objects.filter(batch__reversed_by__isnull=True)
        .values_list("card_id")
        .annotate(total=Sum("value"))
    )
    return [
        Violation(
            "punch_cards",
            f"punch card {card}: keeps {kept} as made revenue, its uses add up to"
            f" {int(sums.get(card) or 0)}",
        )
        for card, kept in PunchCard.objects.values_list("pk", "recognised_minor")
        if kept != int(sums.get(card) or 0)
    ]
