"""Substring indexes for customer lookup, one definition per engine.

PostgreSQL: pg_trgm GIN indexes answer ``LIKE '%frag%'`` on the folded name. SQLite: an
FTS5 table with the trigram tokenizer mirrors the same column of ``customers_customer``
(external content, kept in step by triggers), and ``LIKE`` on it uses the index. Prefix
queries on names and the ``NameKey`` table use ordinary B-tree indexes, plus a
pattern-ops index on PostgreSQL for ``LIKE 'jo%'``.

Phone numbers and e-mail addresses are sealed, found by their blind indexes
(``customers.models``); until migration 0005 they had trigram indexes too (``LEGACY``).
"""

from __future__ import annotations

COLUMNS = ("search_name",)
LEGACY = ("search_phone", "email")  # columns indexed before they were sealed


def create_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            *(
                f"CREATE INDEX customers_{column}_trgm ON customers_customer "
                f"USING gin ({column} gin_trgm_ops)"
                for column in COLUMNS
            ),
            # Byte order, as SQLite's BINARY: the same ranking on both engines, and the
            # B-tree indexes serve prefix ranges and ORDER BY alike.
            'ALTER TABLE customers_customer ALTER COLUMN search_name TYPE varchar(120) COLLATE "C"',
            'ALTER TABLE customers_namekey ALTER COLUMN key TYPE varchar(20) COLLATE "C"',
        ]
    if vendor == "sqlite":
        columns = ", ".join(COLUMNS)
        new = ", ".join(f"new.{column}" for column in COLUMNS)
        old = ", ".join(f"old.{column}" for column in COLUMNS)
        remove = (
            f"INSERT INTO customers_search(customers_search, rowid, {columns}) "
            f"VALUES ('delete', old.id, {old});"
        )
        add = f"INSERT INTO customers_search(rowid, {columns}) VALUES (new.id, {new});"
        return [
            f"CREATE VIRTUAL TABLE customers_search USING fts5({columns}, "
            "content='customers_customer', content_rowid='id', tokenize='trigram')",
            f"CREATE TRIGGER customers_search_insert AFTER INSERT ON customers_customer "
            f"BEGIN {add} END",
            f"CREATE TRIGGER customers_search_delete AFTER DELETE ON customers_customer "
            f"BEGIN {remove} END",
            f"CREATE TRIGGER customers_search_update AFTER UPDATE ON customers_customer "
            f"BEGIN {remove} {add} END",
            "INSERT INTO customers_search(customers_search) VALUES ('rebuild')",
        ]
    raise NotImplementedError(f"no search indexes for {vendor}")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *(f"DROP INDEX IF EXISTS customers_{column}_trgm" for column in COLUMNS + LEGACY),
            "ALTER TABLE customers_customer ALTER COLUMN search_name "
            'TYPE varchar(120) COLLATE "default"',
            'ALTER TABLE customers_namekey ALTER COLUMN key TYPE varchar(20) COLLATE "default"',
        ]
    if vendor == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS customers_search_insert",
            "DROP TRIGGER IF EXISTS customers_search_delete",
            "DROP TRIGGER IF EXISTS customers_search_update",
            "DROP TABLE IF EXISTS customers_search",
        ]
    raise NotImplementedError(f"no search indexes for {vendor}")
