import json

from django.db import migrations

from prepaid.lib import sealing

CHUNK = 2000


def _about(body: str) -> str | None:
    """The customer code an answer is about: a customer's ``code``, a transaction's
    ``customer``."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("customer") if "kind" in data else data.get("code")
    return code if isinstance(code, str) else None


def seal(apps, schema_editor):
    """Seal the answers kept under idempotency keys and the outbox events, which carry
    contact data and card tokens as the API gave them; note whom each answer is about."""
    Outcome = apps.get_model("operations", "Outcome")
    Event = apps.get_model("operations", "Event")
    Customer = apps.get_model("customers", "Customer")
    for model, column in ((Outcome, "body"), (Event, "data")):
        last = 0
        while chunk := list(model.objects.filter(pk__gt=last).order_by("pk")[:CHUNK]):
            last = chunk[-1].pk
            codes = {}
            for row in chunk:
                text = getattr(row, column)
                if model is Outcome and (code := _about(text)):
                    codes.setdefault(code, []).append(row)
                if not text.startswith(sealing.RECORD):
                    setattr(row, column, sealing.seal_record(text))
            ids = dict(Customer.objects.filter(code__in=codes).values_list("code", "pk"))
            for code, rows in codes.items():
                for row in rows:
                    row.customer_id = ids.get(code)
            fields = [column, "customer_id"] if model is Outcome else [column]
            model.objects.bulk_update(chunk, fields)


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0003_outcome_customer"),
        ("customers", "0007_drop_plain_columns"),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop, elidable=False)]
