"""``prepaid serve``: migrate, collect static files, serve with granian — and run the
outbox worker (``prepaid webhooks``) beside it, so that one command runs a whole shop."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from prepaid.staff import setup_code
from prepaid.staff.models import Business

logger = logging.getLogger("prepaid.serve")


class Command(BaseCommand):
    help = "Migrate, collect static files and serve prepaid with granian (production-grade)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the outbox worker: webhooks, e-mail, SMS (run `prepaid webhooks`"
            " elsewhere).",
        )

    def handle(
        self, *args: Any, host: str, port: int, workers: int, no_worker: bool, **options: Any
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"  # noqa: S104
        if not Business.objects.exists():
            url += "setup/"
        self.stdout.write(f"prepaid is running. Open {url} in your browser.")
        if not Business.objects.exists():
            # Only someone who can see this console (or read the file) may set up the
            # shop and become its owner (prepaid.staff.setup_code).
            self.stdout.write(
                f"Set-up code: {setup_code.code()}  (also in {setup_code.location()})"
            )
        self.stdout.write(f"Data folder: {settings.DATA_DIR}  (Ctrl+C to stop)")
        supervisor = None if no_worker else Supervisor()
        try:
            if supervisor is not None:
                supervisor.start()
            _serve(host, port, workers)
        finally:
            if supervisor is not None:
                supervisor.stop()


def _serve(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

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


class Supervisor:
    """The outbox worker (``prepaid webhooks``) as a child process of ``prepaid serve``:
    started with the server, started again when it dies (after a pause that grows while
    it keeps dying young), stopped when the server stops. The child also stops by itself
    when this process is gone (``--parent``), even after a SIGKILL."""

    FIRST_PAUSE_SECONDS = 1.0
    LONGEST_PAUSE_SECONDS = 30.0
    STOP_SECONDS = 10.0

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.thread = threading.Thread(target=self._watch, name="webhook-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        command = [sys.executable, "-m", "prepaid", "webhooks", "--parent", str(os.getpid())]
        with self.lock:
            if self.stopping.is_set():
                return None
            self.process = subprocess.Popen(command)
            return self.process

    def _watch(self) -> None:
        pause = self.FIRST_PAUSE_SECONDS
        while (process := self._spawn()) is not None:
            born = time.monotonic()
            code = process.wait()
            if time.monotonic() - born > 60:
                pause = self.FIRST_PAUSE_SECONDS  # it had been running well
            # A Ctrl+C stops the worker and the server at once: by the end of the pause
            # the server is stopping too, and nothing is started again.
            if self.stopping.wait(pause):
                return
            logger.warning("the webhook worker stopped (exit code %s); starting it again", code)
            pause = min(pause * 2, self.LONGEST_PAUSE_SECONDS)

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.thread.join(timeout=self.STOP_SECONDS)
