from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from prepaid.staff.models import Business


class Command(BaseCommand):
    help = "Migrate, collect static files and serve prepaid with granian (production-grade)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"  # noqa: S104
        if not Business.objects.exists():
            url += "setup/"
        self.stdout.write(f"prepaid is running. Open {url} in your browser.")
        self.stdout.write(f"Data folder: {settings.DATA_DIR}  (Ctrl+C to stop)")
        Granian(
            "prepaid.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            # WSGI requests run on these threads; SQLite has one writer anyway, and a
            # small pool keeps the tail latency of lock waits short. At most 2 per core
            # this process may use + 1 (granian warns above that at start), at most 8.
            blocking_threads=min(8, 2 * _cores() + 1),
            # A worker that dies (out of memory, a crash in a C library) comes back
            # instead of leaving the shop with fewer workers, or none, until a restart.
            respawn_failed_workers=True,
            websockets=False,
            log_access=False,
        ).serve()


def _cores() -> int:
    """The CPU cores this process may run on (a container's or taskset's limit), not the
    machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
