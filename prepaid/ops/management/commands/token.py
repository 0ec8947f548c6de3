from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from prepaid.staff.models import ApiToken, Role, Store
from prepaid.staff.tokens import create_token, revoke


class Command(BaseCommand):
    help = "Manage API tokens. The key is printed once; only its digest is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token and print its key once")
        create.add_argument("--name", required=True)
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--store", help="limit the token to this store (by name)")
        actions.add_parser("list", help="list tokens: prefix, name, role, last used, revoked")
        revoking = actions.add_parser("revoke", help="revoke a token: refused from now on")
        revoking.add_argument("prefix", help="the token's prefix (as `token list` shows it)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            return self.list()
        if options["action"] == "revoke":
            return self.revoke(options["prefix"])
        store = None
        if options["store"]:
            store = Store.objects.filter(name=options["store"]).first()
            if store is None:
                raise CommandError(f"no store named {options['store']!r}")
        token, key = create_token(options["name"], Role(options["role"]), store=store)
        self.stderr.write(f"Token {token.name} ({token.role}) created. Its key, shown only now:")
        self.stdout.write(key)
        return None

    def list(self) -> None:
        for token in ApiToken.objects.select_related("store").order_by("id"):
            used = timezone.localtime(token.last_used_at).isoformat() if token.last_used_at else "-"
            state = "revoked" if token.revoked_at else "active"
            store = token.store.name if token.store else "all stores"
            self.stdout.write(
                f"{token.prefix}\t{token.name}\t{token.role}\t{store}\tlast used {used}\t{state}"
            )

    def revoke(self, prefix: str) -> None:
        matching = list(ApiToken.objects.filter(prefix__startswith=prefix, revoked_at__isnull=True))
        if len(matching) != 1:
            found = "no" if not matching else "more than one"
            raise CommandError(f"{found} active token has a prefix starting {prefix!r}")
        revoke(matching[0])
        self.stdout.write(f"Token {matching[0].name} ({matching[0].prefix}…) revoked.")
