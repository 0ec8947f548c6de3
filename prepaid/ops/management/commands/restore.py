"""``prepaid restore FILE [--yes]``: replace the database with a backup.

1. Read the backup: refused (nothing changed) unless it is a prepaid backup of this
   kind of database made by this version or an older one (``backup.inspect``).
2. Show what it replaces: the shop now and in the backup.
3. Unless the database is empty: ask (``--yes`` for scripts), then write a safety copy
   of the current database beside it.
4. Restore, migrate (an older backup), log everybody out (sessions an older backup
   held), and verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from prepaid.operations import privacy
from prepaid.ops import backup


class Command(BaseCommand):
    help = (
        "Replace the database with a backup made by `prepaid backup`, then verify it. "
        "Shows what it replaces, asks first and keeps a safety copy of the current database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--yes", action="store_true", help="do not ask (scripts); the safety copy is kept"
        )

    def handle(self, *args: Any, file: Path, yes: bool, **options: Any) -> None:
        try:
            restored = backup.inspect(file)
        except backup.BackupError as error:
            raise CommandError(f"{str(error).rstrip('.')}. Nothing was restored.") from error
        try:
            now = backup.current()
        except DatabaseError as error:
            raise CommandError(
                f"Cannot read the current database ({error}); nothing was restored."
            ) from error
        self.stdout.write(f"The backup: {restored}.")
        self.stdout.write(f"It replaces: {now}.")
        safety = None
        if not now.empty:
            self.stdout.write("Everything recorded since the backup was made is lost.")
            if not yes:
                self._confirm()
            safety = self._safety_copy()
        erased = privacy.erased() if not now.empty else []
        try:
            backup.restore(file)
        except (backup.BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        call_command("migrate", interactive=False, verbosity=0)
        Session.objects.all().delete()
        self.stdout.write(f"Restored from {file}.")
        if again := privacy.erase_again(erased):
            self.stdout.write(
                f"Erased again: {again} customers erased after this backup was made"
                " (docs/privacy.md)."
            )
        if safety is not None:
            self.stdout.write(f"To undo it: prepaid restore {safety}")
        call_command("verify")

    def _confirm(self) -> None:
        try:
            answer = input("Type yes to restore: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            raise CommandError("Nothing was restored (to restore without asking: --yes).")

    def _safety_copy(self) -> Path:
        try:
            path = backup.safety_copy()
        except (backup.BackupError, OSError) as error:
            raise CommandError(f"No safety copy ({error}); nothing was restored.") from error
        self.stdout.write(f"Safety copy of the current database: {path}")
        return path
