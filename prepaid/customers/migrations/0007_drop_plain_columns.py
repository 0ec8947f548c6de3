from django.db import migrations, models

from prepaid.customers import search_indexes


def drop_search(apps, schema_editor):
    """The phone digits and the e-mail leave the substring indexes (SQLite: the FTS5
    mirror, rebuilt below on the name alone; PostgreSQL: their trigram indexes)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in search_indexes.drop_sql(vendor):
            schema_editor.execute(statement)
    else:
        for column in search_indexes.LEGACY:
            schema_editor.execute(f"DROP INDEX IF EXISTS customers_{column}_trgm")


def create_search(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in search_indexes.create_sql(vendor):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    """Personal data sealed (3 of 3): the plain columns go; the constraints move to the
    blind indexes. Every copy counts: the old columns and their indexes are dropped."""

    dependencies = [
        ("customers", "0006_seal_personal_data"),
    ]

    operations = [
        migrations.RunPython(drop_search, migrations.RunPython.noop, elidable=False),
        migrations.RemoveConstraint("customer", "customer_phone_unique"),
        migrations.RemoveConstraint("customer", "customer_email_unique"),
        migrations.RemoveConstraint("customer", "customer_sms_needs_phone"),
        migrations.RemoveConstraint("customer", "customer_email_consent_needs_email"),
        migrations.RemoveField("customer", "phone"),
        migrations.RemoveField("customer", "email"),
        migrations.RemoveField("customer", "address"),
        migrations.RemoveField("customer", "birthday"),
        migrations.RemoveField("customer", "notes"),
        migrations.RemoveField("customer", "search_phone"),
        migrations.RemoveField("note", "text"),
        migrations.RemoveField("card", "token"),
        migrations.AlterField("card", "token_digest", models.CharField(max_length=64, unique=True)),
        migrations.AddConstraint(
            "customer",
            models.UniqueConstraint(fields=("phone_index",), name="customer_phone_unique"),
        ),
        migrations.AddConstraint(
            "customer",
            models.UniqueConstraint(fields=("email_index",), name="customer_email_unique"),
        ),
        migrations.AddConstraint(
            "customer",
            models.CheckConstraint(
                condition=models.Q(marketing_sms=False) | models.Q(phone_index__isnull=False),
                name="customer_sms_needs_phone",
            ),
        ),
        migrations.AddConstraint(
            "customer",
            models.CheckConstraint(
                condition=models.Q(marketing_email=False) | models.Q(email_index__isnull=False),
                name="customer_email_consent_needs_email",
            ),
        ),
        migrations.AddIndex("customer", models.Index(fields=["phone_tail"], name="customer_phone_tail")),
        migrations.AddIndex("customer", models.Index(fields=["email_local"], name="customer_email_local")),
        migrations.RunPython(create_search, migrations.RunPython.noop, elidable=False),
    ]
