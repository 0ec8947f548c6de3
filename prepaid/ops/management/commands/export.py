"""``prepaid export FILE.xlsx|FILE.csv``: every customer with their balances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.reports import exports


class Command(BaseCommand):
    help = (
        "Write every customer with paid and bonus balance to an Excel (.xlsx) or CSV file; "
        "the format follows the file name. Recorded in the audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        file_format = path.suffix.lower().lstrip(".")
        if file_format not in exports.FORMATS:
            raise CommandError("The file name must end in .xlsx or .csv.")
        try:
            export = exports.export_customers(file_format, by=None)
        except exports.ExportError as error:
            raise CommandError(str(error)) from error
        path.write_bytes(export.content)
        self.stdout.write(f"Exported {export.rows} customers to {path}.")
