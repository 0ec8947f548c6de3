from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0005_balances_after_and_device"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(fields=["created_at"], name="transfer_created_at"),
        ),
    ]
