"""Backups that are safe to take while the shop is open, and restores that refuse what
they cannot safely restore.

SQLite: the online backup API copies a consistent snapshot page by page, even while the
server writes (a plain file copy of a WAL database can be torn). PostgreSQL: pg_dump in
its custom format, restored with pg_restore. A restore is always followed by verify.

A backup is created 0600 and holds no live logins: the sessions are left out (a stolen
backup must not let anyone in as the owner); the counters' and API tokens' secrets are
stored as digests only, so a backup holds nothing that logs in.

Before a restore replaces anything, ``inspect`` reads the file: it must be a backup of
the same kind of database (SQLite or PostgreSQL) holding prepaid's tables, and made by
this version of prepaid or an older one (every migration it records is one this code
knows; an older backup is migrated after the restore).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from prepaid.lib.files import create_private

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# A database holding these apps' migrations is prepaid's.
PREPAID_APPS = frozenset({"staff", "customers", "ledger"})


class BackupError(RuntimeError):
    """A backup or restore failed; the message says why, for the operator."""


class Refused(BackupError):
    """The file is not a backup this prepaid can restore; nothing was changed."""


@dataclass(frozen=True)
class Contents:
    """What a database, or a backup of one, holds, in the words the owner knows it by."""

    shop: str | None = None
    customers: int = 0
    transactions: int = 0
    last_transaction: dt.datetime | None = None
    migrations: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return self.shop is None and not self.customers and not self.transactions

    def __str__(self) -> str:
        if self.empty:
            return "an empty database (no shop yet)"
        last = ""
        if self.last_transaction is not None:
            moment = self.last_transaction.astimezone(dt.UTC)
            last = f", the last on {moment:%Y-%m-%d %H:%M} UTC"
        return (
            f"{self.shop or 'no shop'}: {self.customers} customers,"
            f" {self.transactions} transactions{last}"
        )


def _pg_environment(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER")):
        if db.get(key):
            env[variable] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _run(command: list[str], db: dict[str, Any]) -> str:
    try:
        result = subprocess.run(command, env=_pg_environment(db), capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from error
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


def _read_only(path: Path) -> sqlite3.Connection:
    # immutable: nothing is written beside the file (no -wal, no -shm), and the file is
    # never changed by being looked at.
    return sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)


# -- backup ------------------------------------------------------------------------------


def backup(target: Path) -> None:
    """Write a consistent backup of the whole database, less the sessions, to ``target``.

    It is written beside the target (created 0600) and renamed at the end: a failed
    backup never destroys the previous one at the same path.
    """
    db = connection.settings_dict
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private(partial)
    try:
        if connection.vendor == "sqlite":
            _sqlite_backup(Path(db["NAME"]), partial)
        elif connection.vendor == "postgresql":
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--exclude-table-data=django_session",
                    f"--file={partial}",
                    db["NAME"],
                ],
                db,
            )
        else:
            raise NotImplementedError(connection.vendor)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)


def _sqlite_backup(database: Path, partial: Path) -> None:
    source = sqlite3.connect(database)
    copy = sqlite3.connect(partial)
    try:
        with copy:
            source.backup(copy)
        # One self-contained file (no -wal beside it); the sessions deleted with
        # secure_delete, so their keys are overwritten, not left in free pages.
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.execute("PRAGMA secure_delete=ON")
        with copy:
            copy.execute("DELETE FROM django_session")
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from error
    finally:
        copy.close()
        source.close()


def safety_copy() -> Path:
    """A backup of the current database, beside it (in the data folder), before a restore
    replaces it."""
    db = connection.settings_dict
    folder = Path(db["NAME"]).parent if connection.vendor == "sqlite" else settings.DATA_DIR
    moment = timezone.now().strftime("%Y%m%d-%H%M%S")
    path = Path(folder) / f"before-restore-{moment}.backup"
    backup(path)
    return path


# -- what a database holds ---------------------------------------------------------------


def current() -> Contents:
    """What the database prepaid runs on holds now."""
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        return _contents(cursor, tables)


def _contents(cursor: Any, tables: set[str]) -> Contents:
    """The same questions for the live database (Django's cursor) and a SQLite backup."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        cursor.execute(sql)
        return list(cursor.fetchall())

    if "django_migrations" not in tables:
        return Contents()
    migrations = frozenset(
        (app, name) for app, name in rows("SELECT app, name FROM django_migrations")
    )
    shop = None
    if "staff_business" in tables:
        found = rows("SELECT name FROM staff_business ORDER BY id LIMIT 1")
        shop = found[0][0] if found else None
    customers = 0
    if "customers_customer" in tables:
        customers = rows("SELECT COUNT(*) FROM customers_customer")[0][0]
    transactions, last = 0, None
    if "ledger_batch" in tables:
        transactions, last = rows("SELECT COUNT(*), MAX(created_at) FROM ledger_batch")[0]
    return Contents(shop, customers, transactions, _moment(last), migrations)


def _moment(value: object) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def inspect(source: Path) -> Contents:
    """What the backup at ``source`` holds, or ``Refused`` with the reason it cannot be
    restored here.

    1. It is a file, and by its first bytes a SQLite database or a pg_dump archive.
    2. It is of the kind of database prepaid runs on (no SQLite into PostgreSQL).
    3. It reads as one (an intact SQLite file; an archive this pg_restore reads).
    4. It holds prepaid's tables (the migrations of prepaid's apps).
    5. Every migration it records is one this version knows: a backup made by a newer
       prepaid would lose or break what the newer version added.
    """
    if not source.is_file():
        raise Refused(f"{source} is not a file.")
    with source.open("rb") as file:
        start = file.read(len(SQLITE_MAGIC))
    kind = (
        "sqlite"
        if start == SQLITE_MAGIC
        else "postgresql"
        if start.startswith(PG_DUMP_MAGIC)
        else None
    )
    if kind is None:
        raise Refused(
            f"{source} is not a prepaid backup: it is neither a SQLite database nor a"
            " PostgreSQL archive (pg_dump)."
        )
    if kind != connection.vendor:
        raise Refused(
            f"{source} is a {_NAMES[kind]} backup, but this prepaid runs on"
            f" {_NAMES.get(connection.vendor, connection.vendor)}: a backup is restored into"
            " the same kind of database it was made from."
        )
    contents = _sqlite_contents(source) if kind == "sqlite" else _archive_contents(source)
    if not PREPAID_APPS.issubset(app for app, _name in contents.migrations):
        raise Refused(f"{source} is not a prepaid backup: it has no prepaid tables.")
    unknown = sorted(contents.migrations - _known_migrations())
    if unknown:
        shown = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise Refused(
            f"{source} was made by a newer version of prepaid: it has changes to the"
            f" database this version does not know ({shown}{more}). Upgrade prepaid, then"
            " restore it."
        )
    return contents


_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _sqlite_contents(source: Path) -> Contents:
    database = _read_only(source)
    try:
        check = database.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise Refused(f"{source} is damaged: {check}")
        tables = {name for (name,) in database.execute("SELECT name FROM sqlite_master")}
        return _contents(database.cursor(), tables)
    except sqlite3.Error as error:
        raise Refused(f"{source} is not a prepaid backup: {error}.") from error
    finally:
        database.close()


def _archive_contents(source: Path) -> Contents:
    """The same figures from a pg_dump archive, read from its data as pg_restore writes
    it out (COPY blocks), without restoring anything."""
    db = connection.settings_dict
    try:
        _run(["pg_restore", "--list", str(source)], db)
    except BackupError as error:
        raise Refused(f"{source} is not a backup pg_restore can read: {error}") from error
    tables = ["django_migrations", "staff_business", "customers_customer", "ledger_batch"]
    command = ["pg_restore", "--data-only", "--file=-", *(f"--table={t}" for t in tables)]
    counts = dict.fromkeys(tables, 0)
    migrations, shop, last = set(), None, None
    with subprocess.Popen(
        [*command, str(source)],
        env=_pg_environment(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        for table, row in _copy_rows(process.stdout):
            counts[table] = counts.get(table, 0) + 1
            if table == "django_migrations":
                migrations.add((row["app"], row["name"]))
            elif table == "staff_business" and shop is None:
                shop = row["name"]
            elif table == "ledger_batch" and (moment := _moment(row["created_at"])):
                last = max(last or moment, moment)
        said = process.stderr.read().strip()
    if process.returncode != 0:
        raise Refused(f"{source} is not a backup pg_restore can read: {said}")
    return Contents(
        shop=shop,
        customers=counts["customers_customer"],
        transactions=counts["ledger_batch"],
        last_transaction=last,
        migrations=frozenset(migrations),
    )


def _copy_rows(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, str]]]:
    """(table, {column: text}) for each row of the COPY blocks in pg_restore's output."""
    table, columns = None, []
    for line in lines:
        line = line.rstrip("\n")
        if table is None:
            if line.startswith("COPY ") and line.endswith(" FROM stdin;"):
                name, _space, column_list = line[len("COPY ") : -len(" FROM stdin;")].partition(" ")
                table = name.rpartition(".")[2].strip('"')
                columns = [c.strip().strip('"') for c in column_list.strip("()").split(",")]
        elif line == "\\.":
            table = None
        else:
            values = [_unescape(value) for value in line.split("\t")]
            yield table, dict(zip(columns, values, strict=False))


def _unescape(value: str) -> str:
    """A value of COPY's text format: backslash escapes; ``\\N`` is NULL (here empty)."""
    if value == "\\N":
        return ""
    if "\\" not in value:
        return value
    escapes = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            char = next(chars, "")
            char = escapes.get(char, char)
        out.append(char)
    return "".join(out)


# -- restore -----------------------------------------------------------------------------


def restore(source: Path) -> None:
    """Replace the whole database with the backup's contents, all or nothing.

    Call ``inspect`` first: this does not check what it is given."""
    db = connection.settings_dict
    connection.close()
    if connection.vendor == "sqlite":
        backup_db = _read_only(source)
        live = sqlite3.connect(db["NAME"])
        try:
            # One step (pages=-1, the default): the live database changes in one
            # transaction, all of it or none.
            with live:
                backup_db.backup(live)
        except sqlite3.Error as error:
            raise BackupError(f"the restore failed, nothing was changed: {error}") from error
        finally:
            live.close()
            backup_db.close()
    elif connection.vendor == "postgresql":
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(source),
            ],
            db,
        )
    else:
        raise NotImplementedError(connection.vendor)
