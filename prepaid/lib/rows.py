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

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models import fields as model_fields

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
    return [_instance(model, shape, list(row), connection, using) for row in rows]


def joined(
    *tables: tuple[type[Model], str, bool],
    tail: str,
    params: Sequence[Any],
    using: str = "default",
    extra: Sequence[str] = (),
) -> tuple[Any, ...] | None:
    """One row of several models joined: ``tables`` are (model, alias, may be missing)
    and ``tail`` is the ``FROM … WHERE …`` that names them by those aliases. Answers an
    instance per table (None for a missing row of a LEFT JOIN), then the values of the
    ``extra`` expressions (``joined_all``), or None when the query finds no row."""
    found = joined_all(*tables, tail=f"{tail} LIMIT 1", params=params, using=using, extra=extra)
    return found[0] if found else None


def joined_all(
    *tables: tuple[type[Model], str, bool],
    tail: str,
    params: Sequence[Any],
    using: str = "default",
    extra: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Every row of ``joined``'s query, in its order (``tail`` may end in ``ORDER BY``
    and a row lock). ``extra``: SQL expressions selected after the models' columns (their
    ``%s`` come before ``tail``'s in ``params``), whose values end each row as they
    are."""
    connection = connections[using]
    shapes = [(model, alias, _shape(model, connection)) for model, alias, _ in tables]
    select = ", ".join(
        [
            f"{alias}.{connection.ops.quote_name(str(field.column))}"
            for model, alias, _ in shapes
            for field in model._meta.concrete_fields
        ]
        + list(extra)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} {tail}", list(params))
        fetched = cursor.fetchall()
    answers = []
    for row in fetched:
        found: list[Any] = []
        start = 0
        for (model, _alias, shape), (_model, _, optional) in zip(shapes, tables, strict=True):
            values = list(row[start : start + len(shape.attnames)])
            start += len(shape.attnames)
            if optional and values[model._meta.concrete_fields.index(model._meta.pk)] is None:
                found.append(None)
                continue
            found.append(_instance(model, shape, values, connection, using))
        answers.append((*found, *row[start:]))
    return answers


def _instance(
    model: type[M],
    shape: _Shape,
    values: list[Any],
    connection: BaseDatabaseWrapper,
    using: str,
) -> M:
    for position, converters, column in shape.converters:
        for convert in converters:
            values[position] = convert(values[position], column, connection)
    return model.from_db(using, shape.attnames, values)


def one(model: type[M], where: str, params: Sequence[Any], *, using: str = "default") -> M | None:
    """The first instance for ``where`` (which should name one row: a key), or None."""
    found = many(model, f"{where} LIMIT 1", params, using=using)
    return found[0] if found else None


# -- writing -----------------------------------------------------------------------------
#
# Fixed INSERTs for the posting path, with their column lists taken from the model: a
# column added to a model is written by them at once (its default, or the instance's
# value), never silently left NULL by a hand-kept list.


@dataclass(frozen=True)
class Columns:
    """A model's columns as an INSERT writes them: every concrete field but the
    auto-incremented key and those ``excluded``, in the model's order."""

    table: str
    fields: tuple[Any, ...]
    names: str  # quoted, comma-separated
    marks: str  # "(%s, %s, …)"
    cast_marks: str  # "(%s::bigint, %s::varchar(20), …)": for VALUES outside an INSERT
    # Per column: its attribute, and whether its value needs the field's preparation
    # (times, dates, decimals, JSON) or ``pre_save`` (auto_now); the rest pass as they are.
    attnames: tuple[str, ...] = ()
    prepared: tuple[bool, ...] = ()
    stamped: tuple[bool, ...] = ()


def columns(
    model: type[Model], *, exclude: tuple[str, ...] = (), using: str = "default"
) -> Columns:
    connection = connections[using]
    cache: dict[tuple[type[Model], tuple[str, ...]], Columns] = connection.__dict__.setdefault(
        "prepaid_insert_columns", {}
    )
    if (known := cache.get((model, exclude))) is not None:
        return known
    quote = connection.ops.quote_name
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in exclude
    )
    names = ", ".join(quote(str(field.column)) for field in fields)
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    casts = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    cache[(model, exclude)] = Columns(
        quote(model._meta.db_table),
        fields,
        names,
        marks,
        casts,
        attnames=tuple(field.attname for field in fields),
        prepared=tuple(isinstance(field, NEEDS_PREPARATION) for field in fields),
        stamped=tuple(
            bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
            for field in fields
        ),
    )
    return cache[(model, exclude)]


# Fields whose Python values the driver cannot take as they are (SQLite binds no Decimal,
# and times are adapted to the connection's time zone handling).
NEEDS_PREPARATION = (
    model_fields.DateTimeField,
    model_fields.DateField,
    model_fields.TimeField,
    model_fields.DecimalField,
    model_fields.UUIDField,
    models.JSONField,
)


def values(instance: Model, shape: Columns, *, using: str = "default") -> list[Any]:
    """The instance's values for ``shape``'s columns, prepared as ``save`` prepares them
    (``auto_now_add`` filled in, times and decimals adapted for the database)."""
    connection = connections[using]
    row = []
    for field, attname, prepare, stamp in zip(
        shape.fields, shape.attnames, shape.prepared, shape.stamped, strict=True
    ):
        value = field.pre_save(instance, True) if stamp else getattr(instance, attname)
        row.append(field.get_db_prep_save(value, connection) if prepare else value)
    return row


def values_of(given: dict[str, Any], shape: Columns, *, using: str = "default") -> list[Any]:
    """``values`` for a row given as a dict by attribute name (every column named): no
    model instance to build, on the hot path of a posting."""
    connection = connections[using]
    columns = zip(shape.fields, shape.attnames, shape.prepared, strict=True)
    return [
        field.get_db_prep_save(given[attname], connection) if prepare else given[attname]
        for field, attname, prepare in columns
    ]


class Pending:
    """Rows to insert at the end of a transaction, all at once: an operation's side rows
    (sale lines), its stored outcome and its outbox events cost one round trip on
    PostgreSQL (data-modifying WITH clauses), one statement per table on SQLite.

    The instances are inserted as they are when ``flush`` runs; their ids are not read
    back (nothing after the flush needs them). ``change`` adds an UPDATE to the same
    round trip: one that no other statement of the flush touches the rows of, and whose
    outcome nothing before the flush reads (the statements of one WITH see the same
    snapshot, in no set order).
    """

    def __init__(self) -> None:
        self.instances: list[Model] = []
        self.changes: list[tuple[str, list[Any]]] = []

    def add(self, *instances: Model) -> None:
        self.instances.extend(instances)

    def change(self, sql: str, params: Sequence[Any]) -> None:
        """``sql`` (an UPDATE written in code, ``%s`` placeholders) run with the rows."""
        self.changes.append((sql, list(params)))

    def flush(self, *, using: str = "default") -> None:
        if not self.instances and not self.changes:
            return
        by_model: dict[type[Model], list[Model]] = {}
        for instance in self.instances:
            by_model.setdefault(type(instance), []).append(instance)
        self.instances = []
        statements: list[tuple[str, list[Any]]] = self.changes
        self.changes = []
        for model, instances in by_model.items():
            shape = columns(model, using=using)
            statements.append(
                (
                    f"INSERT INTO {shape.table} ({shape.names}) VALUES "
                    + ", ".join([shape.marks] * len(instances)),
                    [value for instance in instances for value in values(instance, shape)],
                )
            )
        connection = connections[using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and len(statements) > 1:
                *first, (last, last_params) = statements
                heads = ", ".join(f"w{number} AS ({sql})" for number, (sql, _) in enumerate(first))
                params = [value for _, part in first for value in part] + last_params
                cursor.execute(f"WITH {heads} {last}", params)
                return
            for sql, params in statements:
                cursor.execute(sql, params)
