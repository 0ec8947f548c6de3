"""Room on each page of the accounts' table (PostgreSQL): an account's row is updated
by every posting that moves it (its cached totals), so its new version fits beside the
old one (a HOT update) and none of the account's indexes gets a new entry. Pages
written before keep their fill until rewritten (VACUUM FULL); SQLite has no such
setting."""

from django.db import migrations

FILL = 80


def room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE ledger_account SET (fillfactor = {FILL})")


def no_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_account RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_labels")]
    operations = [migrations.RunPython(room, no_room, elidable=False)]
