"""``prepaid import FILE [--dry-run]``: customers and opening balances from a sheet.

The module is named after the command; Python forbids ``import`` only as a name in
source code, and Django finds commands by file name and loads them by string.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.ledger.services import Actor
from prepaid.operations import imports
from prepaid.sales import importing
from prepaid.staff.models import Business, Role, Staff, Store

SHOWN_ERRORS = 50


def _refused(planned: importing.Plan) -> str:
    return str(importing.RowErrors(planned))


STAGES = {"read": "read", "check": "checked", "write": "created"}


class Command(BaseCommand):
    help = (
        "Import customers (and their opening balances) from an Excel (.xlsx) or CSV file. "
        "Columns are recognised by their headers; nothing is written if a row has an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row and say what would happen"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="use COLUMN (letter, number or header) for FIELD, or FIELD= to leave it out; "
            f"fields: {', '.join(importing.Field.values)}",
        )
        parser.add_argument("--store", help="store of the opening balances (default: the first)")
        parser.add_argument("--staff", help="user name recorded as importing (default: an owner)")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        try:
            sheet = self._read(options["file"])
            mapping = self._mapping(sheet, options["map"])
            if options["dry_run"]:
                self._dry_run(sheet, mapping)
                return
            actor = self._actor(options["store"], options["staff"])
            result = imports.commit(sheet, mapping, actor=actor, progress=self._progress)
        except importing.RowErrors as refused:
            self._summary(refused.plan)
            self._errors(refused.plan)
            raise CommandError(str(refused)) from refused
        except importing.ImportProblem as error:
            raise CommandError(str(error)) from error
        money = importing.Rules.of_business().money(result.opening_minor)
        self.stdout.write(
            f"Imported in {time.monotonic() - began:.1f} s: {result.created} created, "
            f"{result.updated} updated, {result.skipped} skipped; "
            f"{result.openings} opening balances, {money} in all."
        )

    def _dry_run(self, sheet: importing.Sheet, mapping: importing.Mapping) -> None:
        planned = importing.plan(sheet, mapping, progress=self._progress)
        self._summary(planned)
        self._errors(planned)
        if planned.error_rows:
            raise CommandError(_refused(planned))
        self.stdout.write("Dry run: nothing was written.")

    def _read(self, path: Path) -> importing.Sheet:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        business = Business.current()
        region = business.region if business else ""
        return importing.read_path(path, region=region, progress=self._progress)

    def _mapping(self, sheet: importing.Sheet, overrides: list[str]) -> importing.Mapping:
        mapping = importing.detect(sheet.headers)
        for override in overrides:
            name, _sep, column = override.partition("=")
            if name not in importing.Field.values:
                raise CommandError(f"Unknown field {name!r} in --map {override}.")
            mapping.pop(importing.Field(name), None)
            if column:
                mapping[importing.Field(name)] = importing.find_column(sheet, column)
        if len(set(mapping.values())) != len(mapping):
            raise CommandError("Two fields share a column; use --map to say which is which.")
        self.stdout.write(f"Header in row {sheet.header_row}; columns:")
        for field, index in sorted(mapping.items(), key=lambda item: item[1]):
            header = sheet.headers[index]
            self.stdout.write(f"  {importing.column_letter(index)} {header!r} → {field.value}")
        return mapping

    def _progress(self, stage: str, done: int, total: int) -> None:
        of = f" of {total:,}" if total else ""
        self.stdout.write(f"  … {STAGES.get(stage, stage)} {done:,}{of} rows")

    def _summary(self, planned: importing.Plan) -> None:
        counts = {action: planned.count(action) for action in importing.Action}
        self.stdout.write(
            f"{len(planned.rows)} rows: {counts[importing.Action.CREATE]} to create, "
            f"{counts[importing.Action.UPDATE]} to update, {counts[importing.Action.SKIP]} "
            f"to skip, {counts[importing.Action.ERROR]} with errors; "
            f"{len(planned.openings)} opening balances, "
            f"{planned.rules.money(planned.opening_minor)} in all."
        )

    def _errors(self, planned: importing.Plan) -> None:
        rows = planned.error_rows
        for row in rows[:SHOWN_ERRORS]:
            self.stderr.write(f"Row {row.number}: {' '.join(row.errors)}")
        if len(rows) > SHOWN_ERRORS:
            self.stderr.write(f"… and {len(rows) - SHOWN_ERRORS} more rows with errors.")

    def _actor(self, store_name: str | None, username: str | None) -> Actor:
        staff = Staff.objects.filter(active=True, role__in=[Role.OWNER, Role.MANAGER])
        if username:
            staff = staff.filter(user__username=username)
        person = staff.order_by("id").first()
        if person is None:
            raise CommandError("No active owner or manager to record the import under.")
        stores = Store.objects.filter(active=True).order_by("id")
        store = stores.filter(name=store_name).first() if store_name else stores.first()
        if store is None:
            raise CommandError(f"No store {store_name!r}." if store_name else "No store yet.")
        return Actor(store=store, staff=person)
