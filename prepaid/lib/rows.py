"""Model rows by fixed SQL, for the few reads every sale makes.

``Model.objects.filter(...).first()`` builds and compiles its query anew on each call:
about 0.45 ms of Python on this project's 2-core reference machine, three times the
round trip to PostgreSQL itself (bench/README.md, "HTTP benchmark"). A sale through the
API makes seven such reads. ``one`` and ``many`` send a fixed ``SELECT`` of the model's
columns and build the instances as the ORM does: the same values, converted by the same
database converters (SQLite's text dates and decimals become ``datetime`` and
``Decimal``), with ``_state`` set as a fetched row's.

Only for hot, simple look-ups by key; everything else reads through the ORM. ``where``
is SQL written in code with ``%s`` placeholders, never text from a request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Shape:
    select: str
    attnames: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]


def _shape(model: type[Model], connection: BaseDatabaseWrapper) -> _Shape:
    """The model's SELECT and converters, built once per database connection: the
    converters are the connection's own (each thread has its own connection)."""
    shapes: dict[type[Model], _Shape] = connection.__dict__.setdefault("prepaid_row_shapes", {})
    if (known := shapes.get(model)) is not None:
        return known
    table = model._meta.db_table
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((position, tuple(found), column))
    shapes[model] = _Shape(
        f"SELECT {columns} FROM {quote(table)}",
        tuple(field.attname for field in fields),
        tuple(converters),
    )
    return shapes[model]


def many(model: type[M], where: str, params: Sequence[Any], *, using: str = "default") -> list[M]:
    """Instances of ``model`` for ``SELECT … FROM its table WHERE <where>``."""
    connection = connections[using]
    shape = _shape(model, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"{shape.select} WHERE {where}", list(params))
        rows = cursor.fetchall()
    found = []
    for row in rows:
        values = list(row)
        for position, converters, column in shape.converters:
            for convert in converters:
                values[position] = convert(values[position], column, connection)
        found.append(model.from_db(using, shape.attnames, values))
    return found


def one(model: type[M], where: str, params: Sequence[Any], *, using: str = "default") -> M | None:
    """The first instance for ``where`` (which should name one row: a key), or None."""
    found = many(model, f"{where} LIMIT 1", params, using=using)
    return found[0] if found else None
