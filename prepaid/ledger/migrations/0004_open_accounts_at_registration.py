"""Every customer has a wallet and a bonus account from registration on, so that reading
a balance never writes (an account used to be opened by the first look at it)."""

from django.db import migrations


def open_missing(apps, schema_editor):
    Business = apps.get_model("staff", "Business")
    Customer = apps.get_model("customers", "Customer")
    Account = apps.get_model("ledger", "Account")
    business = Business.objects.filter(pk=1).first()
    if business is None:
        return
    unit = business.currency
    for kind in ("wallet", "bonus"):
        have = Account.objects.filter(kind=kind, unit=unit, customer__isnull=False)
        missing = Customer.objects.exclude(pk__in=have.values("customer_id"))
        Account.objects.bulk_create(
            (
                Account(
                    kind=kind,
                    customer_id=customer.pk,
                    unit=unit,
                    floor=-customer.credit_limit_minor if kind == "wallet" else 0,
                )
                for customer in missing.only("pk", "credit_limit_minor").iterator()
            ),
            batch_size=2000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_payment_reference"),
        ("customers", "0003_search_name_index"),
        ("staff", "0004_counters_and_pins"),
    ]

    operations = [migrations.RunPython(open_missing, migrations.RunPython.noop)]
