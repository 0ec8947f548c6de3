"""Plain SQL for many rows of any model at once: an import of customers writes and looks
up hundreds of thousands (``customers.services.register_many``, ``sales.importing``).

``bulk_create`` spends about 0.1 ms of Python per object (a model instance, then every
value prepared one by one); a new customer takes up to nine rows (customer, name keys,
card, tag, audit entry, wallet, batch, transfer), so 100,000 rows would take minutes.
``insert`` writes plain multi-row INSERTs (COPY on PostgreSQL) of values prepared once
per column instead, and ids are read back by each table's unique column (``ids``;
portable: no RETURNING order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

IN_CHUNK = 5000  # values per IN (…) query, at most (SQLite allows fewer)


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """The distinct values, in lists short enough for one ``IN (…)`` each."""
    unique = sorted(set(values) - {""})
    size = min(connection.features.max_query_params or IN_CHUNK, IN_CHUNK) - 10
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


def _db_default(column: models.Field[Any, Any], now: dt.datetime) -> object:
    """The value a column not given gets: its default, the time for auto_now fields."""
    if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
        value: object = now
    elif column.has_default() and not column.unique:
        value = column.get_default()
    elif column.has_db_default():  # a constant (``Value`` or plain): prepaid uses no other
        value = getattr(column.db_default, "value", column.db_default)
    elif column.null:
        value = None
    else:
        raise TypeError(f"{column} needs a value in every row")
    return column.get_db_prep_save(value, connection)


def insert(
    model: type[models.Model],
    rows: Sequence[dict[str, object]],
    *,
    same: dict[str, object] | None = None,
) -> None:
    """INSERT into ``model``'s table: ``rows`` hold what differs from row to row (dicts by
    attribute name, all with the same keys), ``same`` what every row shares; the other
    columns get their defaults. Times and JSON are prepared for the database per value,
    everything else is passed as it is."""
    if not rows:
        return
    columns = {c.attname: c for c in model._meta.concrete_fields if not c.primary_key}
    varying = list(rows[0])
    now = timezone.now()
    shared = {
        name: columns[name].get_db_prep_save(v, connection) for name, v in (same or {}).items()
    }
    for name, column in columns.items():
        if name not in shared and name not in rows[0]:
            shared[name] = _db_default(column, now)
    preparing = [
        (index, columns[name])
        for index, name in enumerate(varying)
        if isinstance(columns[name], models.DateTimeField | models.JSONField)
    ]
    tail = list(shared.values())
    values: list[list[Any]] = []
    for row in rows:
        line = [row[name] for name in varying]
        for index, column in preparing:
            line[index] = column.get_db_prep_save(line[index], connection)
        values.append(line + tail)
    names = [str(columns[name].column) for name in [*varying, *shared]]
    insert_rows(model._meta.db_table, names, values)


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows of values already prepared for the database, in ``columns`` order: COPY on
    PostgreSQL (a fifth of the time of the same rows as INSERTs), one prepared INSERT
    on SQLite. CHECK constraints, unique indexes and triggers judge every row either way.
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY goes around Django's cursor wrapper: wrap it, so a unique index
            # refusing a row raises Django's IntegrityError, as an INSERT would.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


def ids(model: type[models.Model], column: str, values: Iterable[str]) -> dict[str, int]:
    """Ids of rows by a unique column, for many values: one parameter per chunk on
    PostgreSQL (``= ANY``), a plain ``IN`` list on SQLite. The ORM spends ~10 µs of Python
    per value of an ``IN`` list; a 100,000-row import looks up hundreds of thousands."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    field = model._meta.get_field(column)
    assert isinstance(field, models.Field)
    name, pk = quote(str(field.column)), quote(str(model._meta.pk and model._meta.pk.column))
    # "<> ''" lets SQLite use the partial unique indexes of phone and email.
    query = f"SELECT {name}, {pk} FROM {table} WHERE {name} <> '' AND "
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in chunks(values):
            if connection.vendor == "postgresql":
                cursor.execute(query + f"{name} = ANY(%s)", [chunk])
            else:
                cursor.execute(query + f"{name} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update((str(value), int(key)) for value, key in cursor.fetchall())
    return found
