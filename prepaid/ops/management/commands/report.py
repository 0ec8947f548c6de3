"""``prepaid report daily [--date D] [--store S] [--xlsx FILE | --csv FILE]``: a day's
statement for cron jobs — printed, or written as a workbook (one sheet per section) or a
CSV. Without ``--date``: yesterday, the last finished day in the shop's time zone.
``prepaid report statement --from D --to D`` does the same for a span of days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.lib.money import format_money
from prepaid.reports import days, spreadsheets
from prepaid.reports.statements import Scope, Statement, statement
from prepaid.staff.models import Business, Staff, Store


class Command(BaseCommand):
    help = "Print or write a statement: a day's (for cron) or any span's."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=("daily", "statement"))
        parser.add_argument("--date", help="The day, YYYY-MM-DD (daily; default: yesterday)")
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (statement)")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (statement)")
        parser.add_argument("--store", help="A store's name; without it, the whole chain")
        parser.add_argument("--xlsx", help="Write an Excel workbook to this file")
        parser.add_argument("--csv", help="Write a CSV file to this file")

    def handle(self, *args: Any, kind: str, **options: Any) -> None:
        Business.get()
        first, last = self._span(kind, options)
        store = self._store(options["store"])
        found = statement(first, last, Scope(store=store.pk if store else None))
        for file_format in ("xlsx", "csv"):
            if options[file_format]:
                made = spreadsheets.statement_file(found, file_format, by=self._author())
                Path(options[file_format]).write_bytes(made.content)
                self.stdout.write(f"Written {options[file_format]} ({made.filename}).")
                return
        self._print(found, store)

    def _span(self, kind: str, options: dict[str, Any]) -> tuple[dt.date, dt.date]:
        if kind == "daily":
            if options["start"] or options["end"]:
                raise CommandError("daily takes --date; use statement for --from and --to")
            day = _date(options["date"]) if options["date"] else days.today() - dt.timedelta(1)
            return day, day
        if not options["start"] or not options["end"]:
            raise CommandError("statement needs --from and --to")
        first, last = _date(options["start"]), _date(options["end"])
        if last < first:
            raise CommandError("--to comes before --from")
        return first, last

    def _store(self, name: str | None) -> Store | None:
        if name is None:
            return None
        store = Store.objects.filter(name=name).first()
        if store is None:
            raise CommandError(f"no store named {name!r}")
        return store

    def _author(self) -> Staff | None:
        """Exports are audited; a command line's is recorded under the first owner."""
        return Staff.objects.filter(role=Staff.Role.OWNER, active=True).order_by("id").first()

    def _print(self, found: Statement, store: Store | None) -> None:
        business = Business.get()

        def money(amount: int) -> str:
            return format_money(amount, business.currency, region=business.region)

        span = str(found.start) if found.start == found.end else f"{found.start} – {found.end}"
        self.stdout.write(f"{business.name}, {store.name if store else 'all stores'}: {span}")
        self.stdout.write("Top-ups:")
        for line in found.top_ups:
            bonus = f" (+{money(line.bonus)} bonus)" if line.bonus else ""
            self.stdout.write(f"  {line.method.name}: {line.count} × → {money(line.amount)}{bonus}")
        if found.packages:
            self.stdout.write("Punch cards sold:")
            for package in found.packages:
                self.stdout.write(
                    f"  {package.method.name}: {package.count} × → {money(package.amount)}"
                )
        self.stdout.write("Sales:")
        for sale in found.sales:
            self.stdout.write(
                f"  {sale.product.name}: {sale.count} lines, {sale.quantity} {sale.product.unit},"
                f" {money(sale.amount)} ({money(sale.from_bonus)} from bonus)"
            )
        self.stdout.write("Refunds:")
        for refund in found.refunds:
            self.stdout.write(f"  {refund.method.name}: {refund.count} × → {money(refund.amount)}")
        self.stdout.write(
            f"Reversals: {found.reversal_count}, {money(found.reversal_amount)} moved back"
        )
        for label, owed in (
            ("Owed at the start", found.opening),
            ("Owed at the end", found.closing),
        ):
            self.stdout.write(
                f"{label}: {money(owed.paid)} paid + {money(owed.bonus)} bonus;"
                f" credit {money(owed.credit)}"
            )
        self.stdout.write(f"Net change: {money(found.net_change)}")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None
