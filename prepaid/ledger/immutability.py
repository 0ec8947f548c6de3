"""Database triggers that refuse UPDATE and DELETE on transfers and batches.

The ORM never updates a transfer, but a bug, a hand-written SQL statement or an admin
tool could; the database itself must refuse. One definition serves the migration, and
the test suite (which drops the triggers around its own table flush on SQLite).
PostgreSQL's TRUNCATE is a separate privilege and does not fire row triggers: production
roles should not be granted it (see docs/ledger.md).
"""

from __future__ import annotations

TABLES = ("ledger_transfer", "ledger_batch")
MESSAGE = "ledger rows are immutable: correct them with a reversal"


def create_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            for table in TABLES
            for action in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        function = (
            "CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$;"
        )
        return [function] + [
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
            for table in TABLES
        ]
    raise NotImplementedError(f"no immutability triggers for {vendor}")


def drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()};"
            for table in TABLES
            for action in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in TABLES]
    raise NotImplementedError(f"no immutability triggers for {vendor}")
