from django.db import migrations

from prepaid.customers.models import sealed_columns
from prepaid.lib import sealing

CHUNK = 2000
PERSONAL = ("phone", "email", "address", "birthday", "notes")


def seal(apps, schema_editor):
    """Seal every customer's personal data, notes and card tokens with a data key of
    their own (``lib.sealing``), in chunks."""
    Customer = apps.get_model("customers", "Customer")
    Note = apps.get_model("customers", "Note")
    Card = apps.get_model("customers", "Card")
    last = 0
    while True:
        chunk = list(Customer.objects.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not chunk:
            break
        last = chunk[-1].pk
        keys = {}
        for customer in chunk:
            data_key = sealing.new_data_key()
            keys[customer.pk] = (customer.code, data_key)
            values = {name: getattr(customer, name) for name in PERSONAL}
            values["birthday"] = values["birthday"].isoformat() if values["birthday"] else ""
            customer.sealed_key = sealing.wrap(data_key, customer.code)
            columns = sealed_columns(customer.code, data_key, {k: v for k, v in values.items() if v})
            for column, value in columns.items():
                setattr(customer, column, value)
        Customer.objects.bulk_update(
            chunk, ["sealed_key", "personal", "phone_index", "phone_tail", "email_index", "email_local"]
        )
        notes = list(Note.objects.filter(customer_id__in=keys))
        for note in notes:
            code, data_key = keys[note.customer_id]
            note.sealed_text = sealing.seal(data_key, note.text.encode(), f"{code}:note")
        Note.objects.bulk_update(notes, ["sealed_text"])
        cards = list(Card.objects.filter(customer_id__in=keys))
        for card in cards:
            code, data_key = keys[card.customer_id]
            card.token_digest = sealing.digest(card.token)
            card.hint = card.token[:6]
            card.sealed_token = sealing.seal(
                data_key, card.token.encode(), f"{code}:card:{card.token_digest}"
            )
        Card.objects.bulk_update(cards, ["token_digest", "hint", "sealed_token"])


class Migration(migrations.Migration):
    """Personal data sealed (2 of 3): the data moves into the sealed columns."""

    dependencies = [
        ("customers", "0005_sealed_columns"),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop, elidable=False)]
