from django.db import migrations

from prepaid.customers import search_indexes


def create(apps, schema_editor):
    for statement in search_indexes.create_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for statement in search_indexes.drop_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
