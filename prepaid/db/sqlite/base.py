"""Django's SQLite backend, with writers queued fairly inside the process.

SQLite lets one transaction write at a time; prepaid starts every transaction with
BEGIN IMMEDIATE, so a second writer waits in SQLite's busy handler, which sleeps in
steps of 1 to 100 ms and polls. Under a few concurrent requests that sleeping, not the
work, made the slowest sale wait 0.2 s or more. Here the threads of one server process
queue on a lock before BEGIN instead, and the next one starts the moment the previous
one commits. Other processes (a second server worker, a `prepaid` command) still meet
at SQLite's own lock and busy timeout, exactly as before.

The queue waits at most the busy timeout; past it the transaction fails like SQLite's
own "database is locked" (a 503 for the person, nothing written).

A new database file is created 0600 before SQLite opens it (SQLite would create it with
0644 less the umask), and SQLite gives its -wal and -shm the same mode.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from prepaid.lib.files import create_private

WRITERS = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writing = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        name = str(conn_params["database"])
        if name and name != ":memory:" and not name.startswith("file:"):
            create_private(Path(name))
        return super().get_new_connection(conn_params)

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not WRITERS.acquire(timeout=timeout):
            raise OperationalError("database is locked (writers queued past the timeout)")
        self._writing = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._writing:
            self._writing = False
            WRITERS.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release()
