"""What the lookup and reports benchmarks share: a call in a forked process, bulk rows
written the fastest way each engine takes them, sequences and statistics settled after
a load, the server's version, percentiles."""

from __future__ import annotations

import multiprocessing
import sqlite3
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model


def _call(queue: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        queue.put((True, function(*args)))
    except BaseException:
        queue.put((False, traceback.format_exc()))


def in_child(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a forked process: Django is set up once per process and
    database, and what the parent built (a generated population) is inherited rather
    than pickled."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    process = ctx.Process(target=_call, args=(queue, function, args))
    process.start()
    try:
        while True:
            try:
                ok, value = queue.get(timeout=5)
                break
            except Exception:  # queue.Empty: still working, unless it died
                if not process.is_alive():
                    raise RuntimeError(f"child exited with {process.exitcode}") from None
    finally:
        process.join(timeout=60)
    if not ok:
        raise RuntimeError(f"child failed:\n{value}")
    return value


def column_defaults(
    model: type[Model], given: tuple[str, ...]
) -> tuple[list[str], tuple[Any, ...]]:
    """The columns of ``model`` not ``given`` (nor its primary key), with what Django
    would store by default (``auto_now`` fields: now; ``db_default``: its value), ready
    for the database."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_db_default() and not field.has_default():
            value = getattr(field.db_default, "value", field.db_default)
        else:
            value = field.get_default()  # "" for text, None for nullable columns
        columns.append(field.column)
        values.append(field.get_db_prep_save(value, connection))
    return columns, tuple(values)


def write(model: type[Model], given: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values of the ``given`` columns) into ``model``'s table: COPY on
    PostgreSQL, one prepared INSERT on SQLite. The other columns get their defaults."""
    from django.db import connection

    rest, defaults = column_defaults(model, given)
    table, columns = model._meta.db_table, ", ".join(f'"{c}"' for c in (*given, *rest))
    full = (row + defaults for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in full:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(given) + len(rest)))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", full)


def reset_sequences(models: list[type[Model]]) -> None:
    """Ids were given explicitly: move PostgreSQL's sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def settle(connection: Any) -> None:
    """PostgreSQL: statistics and a vacuumed heap, so autovacuum does not start during
    the measurement. SQLite: the write-ahead log folded in; no ANALYZE, as prepaid
    never runs one there (its planner works without statistics in production too)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def server_version(connection: Any) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return str(cursor.fetchone()[0])
    return sqlite3.sqlite_version


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]
