"""``prepaid webhooks``: the outbox worker alone — dispatch new events, deliver webhooks,
send the customers' e-mail and SMS (docs/messages.md).

``prepaid serve`` starts this for you (a one-machine shop needs nothing more). Run it
yourself when the web servers run elsewhere or with ``prepaid serve --no-worker``; any
number of workers may run at once. ``--once`` handles what is due and exits (tests,
cron).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from prepaid.operations import outbox
from prepaid.webhooks import worker


class Command(BaseCommand):
    help = (
        "Dispatch new events, deliver webhooks and send messages until stopped (prepaid"
        " serve runs it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Handle what is due now, then exit."
        )
        # Set by `prepaid serve`: stop when that process is gone (even killed).
        parser.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, once: bool, parent: int | None, **options: Any) -> None:
        if once:
            handled = 0
            while done := outbox.work_once():
                handled += done
            self.stdout.write(f"Handled {handled} events and deliveries.")
            return
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        poll = worker.poll_seconds()
        self.stdout.write(f"Delivering webhooks; looking for new events every {poll:g} s.")
        outbox.run(stop, poll_seconds=poll, alive=lambda: parent is None or os.getppid() == parent)
