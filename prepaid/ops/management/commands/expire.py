"""``prepaid expire``: post what is left on the punch cards that have ended — their uses
back to the store, the money paid for them to breakage — and the price of the passes
that have ended as revenue, and the bonus (and, where the rules allow, the paid money)
that has expired, each once per day — and puts every member in the tier their figure
deserves now (down too: a rolling window's deposits falling out of it) — so it is
safe to run from cron every hour. The worker that ``prepaid serve`` runs does the same
every ten minutes; this command is for a server run without it, or to post at once.
docs/programs.md has a systemd timer."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prepaid.catalog import tiers
from prepaid.lib.money import from_minor
from prepaid.operations.programs import earn_due, expire_balances, expire_due
from prepaid.staff.models import Business


class Command(BaseCommand):
    help = (
        "Post the uses left on punch cards that have ended, the price of passes that have"
        " ended, and the bonus (and paid money) that has expired (once a day; safe to"
        " repeat)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        business = Business.get()
        cards, uses = expire_due()
        earned = earn_due()
        accounts, amount = expire_balances()
        moved = tiers.review()
        money = from_minor(amount, business.currency)
        self.stdout.write(
            f"Expired {cards} punch card(s), {uses} use(s); earned {earned} pass(es);"
            f" expired {money} {business.currency} on {accounts} account(s);"
            f" {moved} customer(s) changed tier."
        )
