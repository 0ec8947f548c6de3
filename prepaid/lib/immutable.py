"""Database triggers that refuse UPDATE and DELETE on tables whose rows are records:
the ledger's transfers and batches, the lines of sales and the audit trail.

The ORM never changes these rows; a bug, a hand-written statement or an admin tool
could, so the database itself refuses. On SQLite a migration that rebuilds one of these
tables (most constraint or column changes) drops its triggers with the old table: it
must run ``drop_sql`` + ``create_sql`` again after, as the ledger's migrations do.
"""

from __future__ import annotations

# The tables, each with what the database answers an attempt to change a row.
LEDGER = "ledger rows are immutable: correct them with a reversal"
TABLES = {
    "ledger_transfer": LEDGER,
    "ledger_batch": LEDGER,
    "staff_auditevent": "the audit trail is append-only",
    "sales_saleline": "sale lines are immutable: correct the sale with a reversal",
}


def create_sql(vendor: str, tables: tuple[str, ...]) -> list[str]:
    """On PostgreSQL one function, ``prepaid_refuse_change(message)``, serves every table
    but the ledger's, whose function came first (``prepaid.ledger.immutability``)."""
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLES[table]}'); END;"
            for table in tables
            for action in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        function = (
            "CREATE OR REPLACE FUNCTION prepaid_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0]; END; $$;"
        )
        return [function] + [
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION prepaid_refuse_change('{TABLES[table]}');"
            for table in tables
        ]
    raise NotImplementedError(f"no immutability triggers for {vendor}")


def drop_sql(vendor: str, tables: tuple[str, ...]) -> list[str]:
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{action.lower()};"
            for table in tables
            for action in ("UPDATE", "DELETE")
        ]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in tables]
    raise NotImplementedError(f"no immutability triggers for {vendor}")
