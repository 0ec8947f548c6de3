from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prepaid.sales import demo
from prepaid.sales.setup import Setup, set_up
from prepaid.staff.models import Business


class Command(BaseCommand):
    help = (
        "Fill an empty shop with a demo water station: three water types, 50 customers with "
        "cards and two weeks of history. On a fresh database it also sets up the shop "
        "(owner 'owner', password 'demo-owner')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--currency", default="USD")
        parser.add_argument("--region", default="US")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if Business.current() is None:
            set_up(
                Setup(
                    business="Demo Water Station",
                    currency=options["currency"].upper(),
                    region=options["region"].upper(),
                    time_zone="UTC",
                    store="Main Street",
                    owner="owner",
                    password="demo-owner",  # noqa: S106  (a demo, printed below)
                )
            )
            self.stdout.write("Set up Demo Water Station; log in as owner / demo-owner.")
        try:
            posted = demo.load(seed=options["seed"])
        except demo.DemoError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Demo loaded: {posted} transactions. Data folder: {settings.DATA_DIR}.")
        name, pin = demo.CASHIER
        self.stdout.write(
            "The counter: open /counter/ in the browser of the till, sign in once as the"
            f" owner to make it a counter, then unlock as {name} with PIN {pin}"
            f" (the owner's PIN: {demo.OWNER_PIN})."
        )
