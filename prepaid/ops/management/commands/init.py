from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.lib import sealing
from prepaid.sales.setup import Setup, SetupError, set_up


def read_password(path: str | None) -> str:
    """The password from a file (first line), or asked for at the terminal."""
    if path:
        return Path(path).read_text().splitlines()[0] if Path(path).stat().st_size else ""
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password: use --password-file")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the passwords differ")
    return first


class Command(BaseCommand):
    help = "Set up the business, its first store and the owner (the first-run form, scripted)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--business", required=True)
        parser.add_argument("--currency", required=True, help="ISO 4217, e.g. PHP")
        parser.add_argument("--region", required=True, help="country for phone numbers, e.g. PH")
        parser.add_argument("--time-zone", required=True, help="e.g. Asia/Manila")
        parser.add_argument("--store", required=True)
        parser.add_argument("--owner", required=True, help="the owner's user name")
        parser.add_argument("--password-file")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        setup = Setup(
            business=options["business"],
            currency=options["currency"].upper(),
            region=options["region"].upper(),
            time_zone=options["time_zone"],
            store=options["store"],
            owner=options["owner"],
            password=read_password(options["password_file"]),
        )
        try:
            owner = set_up(setup)
        except SetupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Set up {setup.business}: store {setup.store}, owner {owner.name}.")
        ring = sealing.ring()  # made now, so it can be copied away at once
        self.stdout.write(
            f"The keys that seal the customers' contact data: {ring.source}. Keep a copy"
            " apart from the backups: a backup without them cannot show any phone number"
            " or e-mail address (docs/privacy.md)."
        )
