"""``prepaid two_step_off USERNAME``: turn a person's two-step sign-in off from the
machine, for an owner who lost their phone and has no other owner to do it from the
Staff page. Whoever can run this command runs the shop's server anyway; it is audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.staff import two_step
from prepaid.staff.models import Staff


class Command(BaseCommand):
    help = "Turn off two-step sign-in for a back-office user (a lost phone)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        staff = Staff.objects.filter(user__username=username).first()
        if staff is None:
            raise CommandError(f"There is no back-office user {username}.")
        if not two_step.is_on(staff):
            self.stdout.write(f"Two-step sign-in was already off for {username}.")
            return
        two_step.turn_off(staff, by=None, how="command")
        self.stdout.write(
            f"Two-step sign-in is off for {username}; they log in with their password."
        )
