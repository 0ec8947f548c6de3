"""The database objects that migrations create by hand are all there after migrating.

SQLite rebuilds a table to alter one of its columns, and the rebuild drops the table's
triggers: a later migration can silently remove the ledger's immutability or the search
mirror. This test notices.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_every_hand_made_trigger_and_index_exists():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table')")
            expected = {
                "ledger_transfer_no_update",
                "ledger_transfer_no_delete",
                "ledger_batch_no_update",
                "ledger_batch_no_delete",
                "customers_search",
                "customers_search_insert",
                "customers_search_update",
                "customers_search_delete",
            }
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                " UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            )
            expected = {
                "ledger_transfer_immutable",
                "ledger_batch_immutable",
                "customers_search_name_trgm",  # phones and e-mails are sealed: no trigrams
            }
        names = {row[0] for row in cursor.fetchall()}
    assert expected <= names, expected - names
    assert not {"customers_search_phone_trgm", "customers_email_trgm"} & names  # sealed
