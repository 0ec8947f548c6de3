"""A shop upgrading from plain personal data (customers 0004, operations 0002) finds it
sealed, and everything still found and readable (migrations 0005–0007, operations 0004)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from prepaid.customers import lookup
from prepaid.customers.models import Customer
from prepaid.lib import sealing

BEFORE = [("customers", "0004_note_tier"), ("operations", "0002_api_answers")]


def _migrate(targets=None):
    """To ``targets``; without, to the latest migrations (the schema the other tests
    expect back)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_seals_what_was_plain():
    old = _migrate(BEFORE)
    try:
        Plain = old.get_model("customers", "Customer")
        person = Plain.objects.create(
            code="K7MQ-4XZP",
            name="Maria Santos",
            phone="+639171234567",
            email="maria@example.com",
            address="12 Rizal St",
            birthday=dt.date(1990, 5, 17),
            notes="VIP",
            search_name="maria santos",
            search_phone="639171234567 09171234567",
        )
        old.get_model("customers", "Note").objects.create(customer=person, text="Likes it cold")
        old.get_model("customers", "Card").objects.create(customer=person, token="t" * 24)
        answer = json.dumps({"code": "K7MQ-4XZP", "phone": "+639171234567"})
        old.get_model("operations", "Outcome").objects.create(
            scope="api:1", key="k", state="done", status_code=200, body=answer
        )
    finally:
        _migrate()

    found = Customer.objects.get(code="K7MQ-4XZP")
    assert (found.phone, found.email, found.address, found.notes) == (
        "+639171234567",
        "maria@example.com",
        "12 Rizal St",
        "VIP",
    )
    assert found.birthday == dt.date(1990, 5, 17)
    assert found.timeline.get().text == "Likes it cold"
    assert found.cards.get().token == "t" * 24
    assert lookup.resolve("t" * 24) == found
    assert [c.code for c in lookup.search("4567")] == ["K7MQ-4XZP"]
    assert lookup.search("maria@example.com") == [found]
    with connection.cursor() as cursor:
        cursor.execute("SELECT body, customer_id FROM operations_outcome")
        body, customer_id = cursor.fetchone()
    assert body.startswith(sealing.RECORD) and customer_id == found.pk
    assert json.loads(sealing.open_record(body))["phone"] == "+639171234567"
