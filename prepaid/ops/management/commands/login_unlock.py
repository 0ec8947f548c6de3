"""``prepaid login_unlock NAME``: lift the login lock of a user name (or an address),
for an owner locked out themselves with no other owner to do it from the Staff page.
Whoever can run this command runs the shop's server anyway; it is audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from prepaid.staff import logins
from prepaid.staff.models import LoginThrottle


class Command(BaseCommand):
    help = "Let a user name (or an address) locked after failed logins try again at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a user name, or an address such as 192.0.2.7")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        counts = LoginThrottle.objects.filter(
            Q(kind=LoginThrottle.Kind.NAME, value=logins.name_key(name))
            | Q(kind=LoginThrottle.Kind.ADDRESS, value=name.strip())
        ).exclude(failures=0, wait_until=None)
        found = list(counts)
        if not found:
            raise CommandError(f"{name} has no failed logins to forget.")
        for throttle in found:
            logins.lift_lock(throttle, by=None)
        self.stdout.write(f"{name} may try to log in again.")
