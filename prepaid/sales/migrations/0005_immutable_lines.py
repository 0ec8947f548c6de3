"""The lines of a sale are refused UPDATE and DELETE by the database, like its
transfers: a sale is corrected by a reversal."""

from django.db import migrations

from prepaid.lib import immutable

TABLES = ("sales_saleline",)


def create(apps, schema_editor):
    for statement in immutable.create_sql(schema_editor.connection.vendor, TABLES):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in immutable.drop_sql(schema_editor.connection.vendor, TABLES):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_tier_discount")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
