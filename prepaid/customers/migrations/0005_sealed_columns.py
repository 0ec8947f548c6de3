from django.db import migrations, models


class Migration(migrations.Migration):
    """Personal data sealed (1 of 3): the new columns, beside the plain ones."""

    dependencies = [
        ("customers", "0004_note_tier"),
    ]

    operations = [
        migrations.AddField("customer", "sealed_key", models.TextField(blank=True)),
        migrations.AddField(
            "customer",
            "personal",
            models.TextField(blank=True, help_text="sealed JSON: phone, email, …"),
        ),
        migrations.AddField(
            "customer", "phone_index", models.CharField(blank=True, max_length=32, null=True)
        ),
        migrations.AddField(
            "customer", "phone_tail", models.CharField(blank=True, max_length=32, null=True)
        ),
        migrations.AddField(
            "customer", "email_index", models.CharField(blank=True, max_length=32, null=True)
        ),
        migrations.AddField(
            "customer", "email_local", models.CharField(blank=True, max_length=32, null=True)
        ),
        migrations.AddField("customer", "erased_at", models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            "note",
            "sealed_text",
            models.TextField(default="", help_text="sealed with the customer's key"),
            preserve_default=False,
        ),
        migrations.AddField("card", "token_digest", models.CharField(default="", max_length=64)),
        migrations.AddField("card", "sealed_token", models.TextField(blank=True)),
        migrations.AddField("card", "hint", models.CharField(blank=True, max_length=6)),
    ]
