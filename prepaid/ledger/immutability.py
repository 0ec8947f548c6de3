"""Database triggers that refuse UPDATE and DELETE on transfers and batches.

The ORM never updates a transfer, but a bug, a hand-written SQL statement or an admin
tool could; the database itself must refuse. The triggers are those of every record
table (``prepaid.lib.immutable``); on PostgreSQL the ledger keeps the function its first
migration made, ``ledger_refuse_change()``, which the migrations since recreate. The
test suite drops them around its own table flush on SQLite. PostgreSQL's TRUNCATE is a
separate privilege and does not fire row triggers: production roles should not be
granted it (see docs/ledger.md).
"""

from __future__ import annotations

from prepaid.lib import immutable

TABLES = ("ledger_transfer", "ledger_batch")
MESSAGE = immutable.LEDGER


def create_sql(vendor: str) -> list[str]:
    if vendor != "postgresql":
        return immutable.create_sql(vendor, TABLES)
    function = (
        "CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$;"
    )
    return [function] + [
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
        for table in TABLES
    ]


def drop_sql(vendor: str) -> list[str]:
    return immutable.drop_sql(vendor, TABLES)
