"""The API's stored answers (``api.IdempotentRequest``) become the envelope's outcomes.

Kept with an empty fingerprint: the new fingerprints describe the operation, not the
HTTP body, so a retry of a request made before the upgrade replays by its key alone.
"""

import json
from decimal import Decimal

from django.db import migrations

MONEY = ("shortfall", "available")


def copy_answers(apps, schema_editor):
    Old = apps.get_model("api", "IdempotentRequest")
    Outcome = apps.get_model("operations", "Outcome")
    Business = apps.get_model("staff", "Business")
    from babel.numbers import get_currency_precision

    from prepaid.staff.refusals import REFUSALS

    business = Business.objects.filter(pk=1).first()
    places = int(get_currency_precision(business.currency)) if business else 2
    outcomes = []
    for old in Old.objects.iterator():
        if old.status_code < 400:
            outcomes.append(
                Outcome(
                    scope=f"api:{old.token_id}",
                    key=old.key,
                    state="done",
                    status_code=old.status_code,
                    body=old.body,
                )
            )
            continue
        error = json.loads(old.body).get("error", {})
        if error.get("code") not in REFUSALS:
            continue
        params = {
            name: int(Decimal(error[name]).scaleb(places)) for name in MONEY if name in error
        }
        refusal = {"code": error["code"], "field": None, "params": params}
        outcomes.append(
            Outcome(
                scope=f"api:{old.token_id}",
                key=old.key,
                state="refused",
                status_code=old.status_code,
                body=json.dumps(refusal),
            )
        )
    Outcome.objects.bulk_create(outcomes, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0001_initial"),
        ("api", "0001_initial"),
        ("staff", "0004_counters_and_pins"),
    ]

    operations = [migrations.RunPython(copy_answers, migrations.RunPython.noop)]
