from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.ops.management.commands.init import read_password
from prepaid.sales.setup import SetupError, create_owner


class Command(BaseCommand):
    help = "Create another owner account with access to every store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password-file")

    def handle(self, *args: Any, username: str, password_file: str | None, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        password = read_password(password_file)
        try:
            validate_password(password, user=get_user_model()(username=username))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        try:
            create_owner(username, password)
        except SetupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Owner {username} created.")
