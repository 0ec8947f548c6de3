"""Room on each page of the punch cards' table (PostgreSQL): a card's row is updated
on every use (what it has made revenue), so its new version fits beside the old one
(a HOT update) and none of the card's nine indexes gets a new entry. Pages written
before keep their fill until rewritten (VACUUM FULL); SQLite has no such setting."""

from django.db import migrations

FILL = 70


def room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE programs_punchcard SET (fillfactor = {FILL})")


def no_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE programs_punchcard RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("programs", "0005_several_products")]
    operations = [migrations.RunPython(room, no_room, elidable=False)]
