from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.ledger.verify import verify


class Command(BaseCommand):
    help = "Check the ledger's invariants; exit 1 and list every violation if one is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        violations = verify()
        counts = (
            f"{Account.objects.count()} accounts, {Batch.objects.count()} transactions, "
            f"{Transfer.objects.count()} transfers"
        )
        if not violations:
            self.stdout.write(f"Ledger OK: {counts}.")
            return
        self.stderr.write(f"Ledger has {len(violations)} violation(s) ({counts}):")
        for violation in violations:
            self.stderr.write(f"  {violation}")
        raise SystemExit(1)
