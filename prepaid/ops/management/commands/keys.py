from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.customers import keys
from prepaid.lib import sealing


class Command(BaseCommand):
    help = (
        "The keys that seal the customers' personal data: show them (status), move every "
        "customer to a new key (rotate), or make a key for PREPAID_DATA_KEYS (new)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["status", "rotate", "new"], nargs="?", default="status"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "new":
            self.stdout.write(sealing.Key.new().text())
            return
        ring = sealing.ring()
        if action == "rotate":
            if not ring.from_file and len(ring.keys) < 2:
                raise CommandError(
                    f"the keys come from {sealing.ENVIRONMENT}: make one with `prepaid keys"
                    " new`, put it first in the variable (the old one after it), restart,"
                    " and run this again"
                )
            try:
                current, moved = keys.rotate(lambda n: self.stderr.write(f"  {n} customers…"))
            except sealing.KeyMissing as missing:
                raise CommandError(
                    f"customers are sealed with keys not at hand: {missing}"
                ) from None
            self.stdout.write(f"Key {current} is current; {moved} customers moved to it.")
            if not sealing.ring().from_file and len(sealing.ring().keys) > 1:
                self.stdout.write(
                    f"Now remove the old keys from {sealing.ENVIRONMENT} and restart."
                )
            return
        counts = keys.key_counts()
        self.stdout.write(f"Keys from {ring.source}:")
        for index, key in enumerate(ring.keys):
            role = "current" if index == 0 else "old"
            self.stdout.write(f"  {key.id} ({role}): {counts.pop(key.id, 0)} customers")
        for key_id, count in counts.items():
            self.stdout.write(f"  {key_id} (MISSING): {count} customers cannot be read")
        if counts:
            raise CommandError("some customers are sealed with keys that are not at hand")
