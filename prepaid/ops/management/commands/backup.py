from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database to FILE (safe while serving)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            backup(Path(file))
        except (BackupError, OSError) as error:
            raise CommandError(f"No backup written: {error}") from error
        self.stdout.write(f"Backup written to {file}.")
