"""``prepaid verify``'s check of the punch cards: each store's deferred money (paid for
uses not redeemed yet) is, over the cards it sold and did not take back, their price
less what their uses have made revenue."""

from __future__ import annotations

from collections import defaultdict

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account
from prepaid.ledger.verify import Violation
from prepaid.programs.models import PunchCard
from prepaid.programs.services import recognised


def deferred_money() -> list[Violation]:
    held: dict[int, int] = defaultdict(int)
    sold = PunchCard.objects.filter(batch__isnull=False, batch__reversed_by__isnull=True)
    for card in sold:
        held[card.store_id] += card.price_minor - recognised(card)
    booked: dict[int, int] = defaultdict(int)
    for account in Account.objects.filter(kind=Account.Kind.DEFERRED, customer__isnull=True):
        booked[int(account.store_id or 0)] += ledger.balance(account)
    return [
        Violation(
            "punch_cards",
            f"store {store}: deferred money is {booked.get(store, 0)}, the counts left on"
            f" its punch cards' uses not redeemed are worth {held.get(store, 0)}",
        )
        for store in sorted(set(held) | set(booked))
        if booked.get(store, 0) != held.get(store, 0)
    ]
