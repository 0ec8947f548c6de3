from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.ops.management.commands.init import read_password
from prepaid.sales.setup import SetupError, create_owner


class Command(BaseCommand):
    help = "Create another owner account with access to every store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password-file")

    def handle(self, *args: Any, username: str, password_file: str | None, **options: Any) -> None:
        password = read_password(password_file)
        if len(password) < 8:
            raise CommandError("the password needs at least 8 characters")
        try:
            create_owner(username, password)
        except SetupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Owner {username} created.")
