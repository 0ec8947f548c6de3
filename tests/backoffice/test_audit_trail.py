"""The audit trail and the sale lines are records (#12): the database refuses to change
or remove them, the trail is a hash chain ``prepaid verify`` walks, and logins, wrong
passwords, logouts and new owners are in it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from prepaid.customers import services as customers
from prepaid.ledger.verify import verify
from prepaid.lib import immutable
from prepaid.sales import services as sales
from prepaid.sales.models import SaleLine
from prepaid.staff import audit
from prepaid.staff.models import AuditEvent
from tests.conftest import refused
from tests.factories import make_customer, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(owner):
    for name in ("Ana", "Ben", "Cy"):
        customers.register(customers.Profile(name=name, phone=""), by=owner)
    return list(AuditEvent.objects.order_by("pk"))


def audit_violations() -> list[str]:
    return [str(v) for v in verify() if v.check == "audit"]


def test_the_trail_refuses_update_and_delete(trail):
    first = trail[0]
    assert refused("UPDATE staff_auditevent SET subject = 'x' WHERE id = %s", [first.pk])
    assert refused("DELETE FROM staff_auditevent WHERE id = %s", [first.pk])
    assert AuditEvent.objects.get(pk=first.pk).subject == first.subject


def test_sale_lines_refuse_update_and_delete(actor):
    customer = make_customer(balance="10.00", actor=actor)
    product = make_product(price="1.00")
    sales.sell(customer, [sales.Line(product, 2)], key="s", actor=actor)
    line = SaleLine.objects.get()
    assert refused("UPDATE sales_saleline SET amount_minor = 1 WHERE id = %s", [line.pk])
    assert refused("DELETE FROM sales_saleline WHERE id = %s", [line.pk])
    assert SaleLine.objects.get().amount_minor == 200


def test_the_chain_holds_and_verify_is_clean(trail):
    assert all(len(event.digest) == 64 for event in trail)
    assert audit.chain_problems() == [] and audit_violations() == []


def without_triggers() -> None:
    """What someone with the database's password could do: the triggers gone."""
    with connection.cursor() as cursor:
        for statement in immutable.drop_sql(connection.vendor, ("staff_auditevent",)):
            cursor.execute(statement)


def test_verify_finds_an_event_changed_behind_the_triggers_back(trail):
    without_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE staff_auditevent SET subject = 'customer:NOBODY' WHERE id = %s", [trail[1].pk]
        )
    found = audit_violations()
    assert len(found) == 1 and f"audit event {trail[1].pk}" in found[0]


def test_verify_finds_an_event_removed_or_slipped_in(trail):
    without_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM staff_auditevent WHERE id = %s", [trail[1].pk])
    assert f"audit event {trail[2].pk}" in audit_violations()[0]


def test_an_event_written_past_the_chain_is_found(trail):
    AuditEvent.objects.create(action="forged", subject="customer:X", digest="f" * 64)
    assert "forged" in audit_violations()[0]


def test_a_bulk_registration_is_chained_too(owner):
    news = [customers.NewCustomer(name=f"Guest {n}") for n in range(5)]
    customers.register_many(news, by=owner)
    assert AuditEvent.objects.filter(action="customer.registered").count() == 5
    assert audit_violations() == []


def test_logins_wrong_passwords_and_logouts_are_in_the_trail(client, owner):
    wrong = client.post("/login/", {"username": "olivia", "password": "not-it"})
    assert wrong.status_code == 200
    failed = AuditEvent.objects.get(action="login.failed")
    assert failed.after["username"] == "olivia" and "not-it" not in str(failed.after)
    assert failed.after["address"] == "127.0.0.1"

    assert (
        client.post("/login/", {"username": "olivia", "password": "owner-pass-1"}).status_code
        == 302
    )
    login = AuditEvent.objects.get(action="login")
    assert (login.staff, login.subject) == (owner, f"staff:{owner.pk}")
    client.post("/logout/")
    assert AuditEvent.objects.get(action="logout").staff == owner
    assert audit_violations() == []


def test_createowner_is_in_the_trail(business, store_a, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a-long-enough-passphrase\n")
    call_command("createowner", "rosa", "--password-file", str(secret), stdout=io.StringIO())
    event = AuditEvent.objects.get(action="owner.created")
    assert event.after == {"username": "rosa"} and event.staff is None
