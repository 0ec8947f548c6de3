"""The lookup benchmark's database: migrated, then filled with ``bench.people`` fast.

Runs in a child process per engine (Django reads DATABASE_URL once, at import). Rows
carry what ``customers.services`` would have derived (search_name, the sealed personal
data under a data key of each customer's own and its blind indexes, name keys, a card
with its token's digest and sealed token): calling ``register`` a million times would
take hours. Sealing is the same code (``customers.models.sealed_columns``). They go in a
chunk per transaction, by COPY on PostgreSQL and a prepared INSERT on SQLite, with every
other column at its model default. Not ``bulk_create``: it builds a model instance and
compiles every field of every row, about 0.4 ms per customer (seven minutes a million)
before the database does anything. SQLite's FTS5 table follows by its insert trigger,
PostgreSQL's trigram indexes by themselves.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bench.common import reset_sequences, settle, write
from bench.people import Population
from bench.seed import setup_django
from prepaid.lib import sealing

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

CHUNK = 100_000


def prepare(env: dict[str, str], people: Population) -> dict[str, float | int]:
    """Migrate, seed and settle; how long that took and what the database holds."""
    setup_django(env)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    began = time.monotonic()
    _business()
    for start in range(0, len(people), CHUNK):
        _chunk(people, start, min(start + CHUNK, len(people)))
    from prepaid.customers.models import Customer

    reset_sequences([Customer])
    inserted = time.monotonic() - began
    settle(connection)
    counts = _counts(connection)
    expected = {"customers": len(people), "cards": len(people)}
    expected["name_keys"] = sum(len(keys) for keys in people.keys)
    for table, rows in expected.items():
        assert counts[table] == rows, f"{table}: {counts[table]:,} rows, {rows:,} expected"
    if connection.vendor == "sqlite":
        assert counts["fts_documents"] == len(people), "the FTS5 index misses customers"
    return {"insert_seconds": inserted, "seed_seconds": time.monotonic() - began, **counts}


def _business() -> None:
    from prepaid.staff.models import Business

    Business.objects.create(
        pk=1, name="Bench shop", currency="PHP", region="PH", time_zone="Asia/Manila"
    )


def _chunk(people: Population, start: int, stop: int) -> None:
    """Customers ``start``..``stop`` (ids ``start + 1``…) with their name keys and a card,
    in one transaction."""
    from django.db import transaction

    from prepaid.customers.models import Card, Customer, NameKey

    span = range(start, stop)
    with transaction.atomic():
        keys = {i: sealing.new_data_key() for i in span}
        write(Customer, CUSTOMER_COLUMNS, (_customer(people, i, keys[i]) for i in span))
        write(NameKey, ("customer_id", "key"), ((i + 1, k) for i in span for k in people.keys[i]))
        write(Card, CARD_COLUMNS, (_card(people, i, keys[i]) for i in span))


CUSTOMER_COLUMNS = (
    "id",
    "code",
    "name",
    "sealed_key",
    "personal",
    "phone_index",
    "phone_tail",
    "email_index",
    "email_local",
    "search_name",
)
CARD_COLUMNS = ("customer_id", "token_digest", "hint", "sealed_token")


def _customer(people: Population, i: int, data_key: bytes) -> tuple[Any, ...]:
    from prepaid.customers.models import sealed_columns

    code = people.codes[i]
    values = {"phone": people.phones[i], "email": people.emails[i]}
    sealed = sealed_columns(code, data_key, {k: v for k, v in values.items() if v})
    return (
        i + 1,
        code,
        people.names[i],
        sealing.wrap(data_key, code),
        sealed["personal"],
        sealed["phone_index"],
        sealed["phone_tail"],
        sealed["email_index"],
        sealed["email_local"],
        people.search_names[i],
    )


def _card(people: Population, i: int, data_key: bytes) -> tuple[Any, ...]:
    token, code = people.tokens[i], people.codes[i]
    digest = sealing.digest(token)
    sealed = sealing.seal(data_key, token.encode(), f"{code}:card:{digest}")
    return (i + 1, digest, token[:6], sealed)


def _counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """Rows per table. On SQLite also the FTS5 table: ``count(*)`` of an external-content
    table reads the content table, so the index's own document count is checked too."""
    tables = {
        "customers": "customers_customer",
        "name_keys": "customers_namekey",
        "cards": "customers_card",
    }
    if connection.vendor == "sqlite":
        tables["fts_rows"] = "customers_search"
        tables["fts_documents"] = "customers_search_docsize"
    counts = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[name] = cursor.fetchone()[0]
    return counts
