"""A person's data: exported on request, erased on request (issue #12, API contract in
docs/api.md → Privacy). The ledger stays whole and ``verify`` clean; nothing of the
person lingers in the database, SQLite's free pages and write-ahead log included."""

from __future__ import annotations

import pytest

from prepaid.customers import lookup
from prepaid.customers.models import Card, Customer
from prepaid.ledger.models import Batch
from prepaid.ledger.verify import verify
from prepaid.operations.models import Event, Outcome
from prepaid.staff.models import AuditEvent, Role, Staff
from tests.api.conftest import register
from tests.customers.test_sealed import database_bytes
from tests.factories import make_staff

PERSON = {
    "phone": "+639175550123",
    "email": "dolores.quintana@example.org",
    "address": "Sitio Malunggay",
    "notes": "Comes on Sundays",
}
NAME = "Dolores Quintana"


def _with_history(api) -> dict:
    person = register(api, NAME, **PERSON)
    code = person["code"]
    paid = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "100.00", "method": "cash"}, key="t1"
    )
    assert paid.status_code == 201, paid.content
    return person


def test_export_gives_everything_kept_about_the_person(api):
    person = _with_history(api)
    code = person["code"]
    api.cashier.patch(f"/customers/{code}", {"address": "Sitio Kalamansi"})

    response = api.manager.get(f"/customers/{code}/export")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["customer"]["phone"] == PERSON["phone"]
    assert data["customer"]["email"] == PERSON["email"]
    assert data["customer"]["address"] == "Sitio Kalamansi"
    assert data["customer"]["notes"] == PERSON["notes"]
    assert set(data["consents"]) == {"sms", "email"}
    assert len(data["cards"]) == 1 and data["transactions"][0]["kind"] == "top_up"
    changes = [c for c in data["changes"] if c["action"] == "customer.updated"]
    assert changes[0]["before"]["address"] == PERSON["address"]
    assert AuditEvent.objects.filter(action="customer.exported", subject=f"customer:{code}")
    assert api.cashier.get(f"/customers/{code}/export").status_code == 403


def test_erasure_is_refused_while_money_is_left(api):
    code = _with_history(api)["code"]
    response = api.owner.post(f"/customers/{code}/erasure", {"reason": "Asked by e-mail"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "balance_not_zero"
    assert Customer.objects.get(code=code).phone == PERSON["phone"]


def test_only_the_owner_erases_and_a_reason_is_needed(api):
    code = register(api, NAME, **PERSON)["code"]
    assert api.manager.post(f"/customers/{code}/erasure", {"reason": "x"}).status_code == 403
    assert api.owner.post(f"/customers/{code}/erasure", {"reason": ""}).status_code == 422
    assert api.owner.post(f"/customers/{code}/erasure", {"reason": "   "}).status_code == 422
    assert Customer.objects.get(code=code).erased_at is None


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_the_ledger_and_no_trace_of_the_person(api):
    person = _with_history(api)
    code = person["code"]
    token = Card.objects.get(customer__code=code).token
    refund = api.manager.post(
        f"/customers/{code}/refunds",
        {"amount": "100.00", "method": "cash", "reason": "Moving away"},
        key="r1",
    )
    assert refund.status_code == 201, refund.content
    batches = Batch.objects.filter(customer__code=code).count()

    response = api.owner.post(f"/customers/{code}/erasure", {"reason": "Asked at the counter"})

    assert response.status_code == 200, response.content
    assert response.json()["code"] == code and response.json()["erased"] is True
    erased = Customer.objects.get(code=code)
    assert erased.name == "—" and erased.status == "closed"
    assert (erased.phone, erased.email, erased.address, erased.notes) == ("", "", "", "")
    assert not erased.marketing_sms and not erased.marketing_email
    assert lookup.search("0123") == [] and lookup.search(PERSON["email"]) == []
    assert lookup.search("dolores") == [] and lookup.resolve(token) is None
    assert Batch.objects.filter(customer=erased).count() == batches
    assert verify() == []
    event = AuditEvent.objects.get(action="customer.erased")
    assert event.after == {"reason": "Asked at the counter"} and event.subject == f"customer:{code}"
    assert Event.objects.filter(type="customer.erased", customer=erased).exists()
    for kept in Event.objects.filter(customer=erased):
        assert "Dolores" not in kept.data and "0123" not in kept.data
    for outcome in Outcome.objects.all():
        assert "Dolores" not in outcome.body and "0123" not in outcome.body

    raw = database_bytes()
    for secret in (NAME, "Dolores", "Quintana", PERSON["email"], "5550123", PERSON["address"]):
        assert secret.encode() not in raw, secret
    assert token.encode() not in raw

    again = api.owner.post(f"/customers/{code}/erasure", {"reason": "twice"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "customer_erased"
    export = api.owner.get(f"/customers/{code}/export").json()
    assert export["customer"]["phone"] == "" and export["customer"]["erased_at"]
    assert all(
        value == "(erased)"
        for change in export["changes"]
        for side in (change["before"], change["after"])
        if side
        for name, value in side.items()
        if name in ("name", "phone", "email", "address", "notes")
    )


def test_the_back_office_downloads_and_erases(api, client):
    code = register(api, NAME, **PERSON)["code"]
    owner = make_staff("Olga", Staff.Role.OWNER, password="a long enough password")
    cashier = make_staff("Carl", Role.CASHIER, password="a long enough password")

    client.force_login(cashier.user)
    page = client.get(f"/customers/{code}/").content.decode()
    assert "Erase personal data" not in page
    assert client.get(f"/customers/{code}/data.json").status_code == 403

    client.force_login(owner.user)
    page = client.get(f"/customers/{code}/").content.decode()
    assert "Download everything kept" in page and "Erase personal data" in page
    download = client.get(f"/customers/{code}/data.json")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="customer-{code}.json"'
    assert PERSON["email"] in download.content.decode()

    unticked = client.post(f"/customers/{code}/erase/", {"reason": "Asked"}, follow=True)
    assert "cannot be undone" in unticked.content.decode()
    assert Customer.objects.get(code=code).erased_at is None

    done = client.post(
        f"/customers/{code}/erase/", {"reason": "Asked", "understood": "1"}, follow=True
    )
    assert "personal data is erased" in done.content.decode()
    assert Customer.objects.get(code=code).erased_at is not None
    assert "Personal data erased on" in client.get(f"/customers/{code}/").content.decode()
