"""Backups that are safe to take while the shop is open.

SQLite: the online backup API copies a consistent snapshot page by page, even while the
server writes (a plain file copy of a WAL database can be torn). PostgreSQL: pg_dump in
its custom format, restored with pg_restore. A restore is always followed by verify.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection


def _pg_environment(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed; the message carries what they said."""


def _run(command: list[str], db: dict[str, Any]) -> None:
    try:
        result = subprocess.run(command, env=_pg_environment(db), capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from error
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup(target: Path) -> None:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        # Written beside the target and renamed at the end: a failed backup never
        # destroys the previous one at the same path.
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        source = sqlite3.connect(db["NAME"])
        copy = sqlite3.connect(partial)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        partial.replace(target)
    elif connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", db["NAME"]], db)
    else:
        raise NotImplementedError(connection.vendor)


def restore(source: Path) -> None:
    """Replace the whole database with the backup's contents."""
    if not source.exists():
        raise FileNotFoundError(source)
    db = connection.settings_dict
    connection.close()
    if connection.vendor == "sqlite":
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(db["NAME"])
        try:
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    elif connection.vendor == "postgresql":
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(source),
            ],
            check=True,
            env=_pg_environment(db),
        )
    else:
        raise NotImplementedError(connection.vendor)
