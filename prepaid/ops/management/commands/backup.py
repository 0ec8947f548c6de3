from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from prepaid.ops.backup import backup


class Command(BaseCommand):
    help = "Write a consistent backup of the database to FILE (safe while serving)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        backup(Path(file))
        self.stdout.write(f"Backup written to {file}.")
