from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.staff.models import Role, Store
from prepaid.staff.tokens import create_token


class Command(BaseCommand):
    help = "Manage API tokens. The key is printed once; only its digest is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token and print its key once")
        create.add_argument("--name", required=True)
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--store", help="limit the token to this store (by name)")

    def handle(self, *args: Any, **options: Any) -> None:
        store = None
        if options["store"]:
            store = Store.objects.filter(name=options["store"]).first()
            if store is None:
                raise CommandError(f"no store named {options['store']!r}")
        token, key = create_token(options["name"], Role(options["role"]), store=store)
        self.stderr.write(f"Token {token.name} ({token.role}) created. Its key, shown only now:")
        self.stdout.write(key)
