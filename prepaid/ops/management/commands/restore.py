from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database with a backup made by `prepaid backup`, then verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if not Path(file).exists():
            raise CommandError(f"no such file: {file}")
        try:
            restore(Path(file))
        except BackupError as error:
            raise CommandError(str(error)) from error
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Restored from {file}.")
        call_command("verify")
