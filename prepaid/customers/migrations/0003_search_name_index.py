from django.db import migrations, models

from prepaid.customers import search_indexes


def restore_sqlite_search(apps, schema_editor):
    """SQLite alters a column by rebuilding the table, which drops the table's triggers:
    the FTS5 mirror would silently stop following the customers. Put it back, rebuilt.
    Every later migration that alters customers_customer must do the same."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in search_indexes.drop_sql(vendor) + search_indexes.create_sql(vendor):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_search_indexes"),
        ("staff", "0002_spend_order"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="search_name",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["search_name", "id"], name="customer_search_name"),
        ),
        migrations.RunPython(restore_sqlite_search, migrations.RunPython.noop, elidable=False),
    ]
