"""Personal data sealed at rest (issue #12): the database holds no phone, e-mail,
address, birthday, note or card token in the clear, yet lookup finds the customers; a
key rotation and a lost key file."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from prepaid.customers import keys, lookup
from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer
from prepaid.ledger.verify import verify
from prepaid.lib import sealing
from prepaid.staff.models import AuditEvent, Staff
from tests.factories import make_business, make_staff

PHONE = "+639171234567"
EMAIL = "rosario.dimaculangan87@example.com"
ADDRESS = "Purok Sampaguita, Barangay Malinis"
NOTES = "Allergic to chlorine taste"


def _register(name: str = "Rosario Dimaculangan", **fields) -> Customer:
    values = {"phone": PHONE, "email": EMAIL, "address": ADDRESS, "notes": NOTES, **fields}
    return customers.register(customers.Profile(name=name, **values), by=None)


def database_bytes() -> bytes:
    """Everything the database keeps, as an attacker with the file or a dump sees it:
    SQLite's file and its write-ahead log; PostgreSQL's pg_dump."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        path = Path(settings["NAME"])
        return b"".join(
            Path(f"{path}{suffix}").read_bytes()
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        )
    command = ["pg_dump", "--data-only", "-h", settings["HOST"] or "127.0.0.1"]
    command += ["-p", str(settings["PORT"] or 5432), "-U", settings["USER"], settings["NAME"]]
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    return subprocess.run(command, capture_output=True, check=True, env=env).stdout


def _secrets_of(person: Customer) -> list[bytes]:
    token = person.cards.get().token
    digits = PHONE.lstrip("+").encode()
    return [digits, b"9171234567", EMAIL.encode(), ADDRESS.encode(), NOTES.encode(), token.encode()]


@pytest.mark.django_db(transaction=True)
def test_the_database_holds_no_contact_data_yet_lookup_finds_it():
    make_business(region="PH")
    person = _register()
    customers.add_note(person, "Prefers the 5-gallon jug", by=None)
    customers.update(person, customers.Profile(address=ADDRESS + " 2"), by=None)
    token = person.cards.get().token

    raw = database_bytes()
    for secret in [*_secrets_of(person), b"Prefers the 5-gallon jug"]:
        assert secret not in raw, secret
    assert b"Rosario" in raw  # the name stays searchable, as documented

    for typed in ("4567", "234567", "0917 123 4567", "+63 917 123 4567", EMAIL):
        assert [c.code for c in lookup.search(typed)] == [person.code], typed
    assert [c.code for c in lookup.search("rosario.dimaculangan87@ex")] == [person.code]
    assert lookup.resolve(token) == person
    found = Customer.objects.get(pk=person.pk)
    assert (found.phone, found.email, found.address) == (PHONE, EMAIL, ADDRESS + " 2")
    assert found.timeline.get().text == "Prefers the 5-gallon jug"


@pytest.mark.django_db
def test_a_fragment_from_the_middle_of_a_number_finds_nobody():
    """What the blind indexes cannot answer, and say so in the docs: they keep no
    piece of a number but its last four digits."""
    make_business(region="PH")
    _register()
    assert lookup.search("917123") == []
    assert lookup.search("1234") == []


@pytest.mark.django_db
def test_the_audit_trail_keeps_the_profile_sealed_and_the_activity_page_opens_it(client):
    make_business(region="PH")
    owner = make_staff("Olga", Staff.Role.OWNER, password="a long enough password")
    person = _register()
    customers.update(person, customers.Profile(phone="+639179990000"), by=owner)
    event = AuditEvent.objects.get(action="customer.updated")
    assert "9990000" not in json.dumps([event.before, event.after])
    assert set(event.after["phone"]) == {"sealed"}

    client.force_login(owner.user)
    page = client.get("/activity/").content.decode()
    assert "+639179990000" in page and PHONE in page


@pytest.mark.django_db
def test_a_sealed_value_does_not_open_for_another_customer():
    make_business(region="PH")
    first = _register()
    second = _register("Other", phone="+639170000001", email="other@example.com")
    Customer.objects.filter(pk=second.pk).update(personal=first.personal)
    copied = Customer.objects.get(pk=second.pk)
    with pytest.raises(sealing.Unreadable):
        copied.phone  # noqa: B018


@pytest.mark.django_db
def test_duplicates_are_found_through_the_blind_index():
    make_business(region="PH")
    first = _register()
    with pytest.raises(customers.DuplicateCustomer) as refused:
        customers.register(customers.Profile(name="Twin", phone="0917 123 4567"), by=None)
    assert refused.value.existing == first


@pytest.mark.django_db
def test_rotation_moves_everyone_to_a_new_key_and_drops_the_old(settings, tmp_path):
    make_business(region="PH")
    settings.DATA_KEYS_FILE = tmp_path / "data_keys"
    person = _register()
    card = person.cards.get()
    old = sealing.ring().current.id
    assert Customer.objects.get(pk=person.pk).sealed_key.startswith(old + ".")
    from prepaid.operations.models import Event

    event = Event.objects.create(type="customer.created", data=sealing.seal_record('{"a": 1}'))

    call_command("keys", "rotate")

    ring = sealing.ring()
    assert [key.id for key in ring.keys] == [ring.current.id] and ring.current.id != old
    found = Customer.objects.get(pk=person.pk)
    assert found.sealed_key.startswith(ring.current.id + ".")
    assert (found.phone, found.email, found.address, found.notes) == (PHONE, EMAIL, ADDRESS, NOTES)
    assert [c.code for c in lookup.search("4567")] == [person.code]
    assert lookup.search(EMAIL) == [found]
    assert Card.objects.get(pk=card.pk).token == card.token  # the data key itself stays
    moved = Event.objects.get(pk=event.pk).data
    assert sealing.record_key_id(moved) == ring.current.id
    assert sealing.open_record(moved) == '{"a": 1}'
    assert oct(settings.DATA_KEYS_FILE.stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_a_rotation_cut_short_loses_nothing(settings, tmp_path):
    """A crash after the new key went into the file and before every customer moved:
    lookups ask with every key, and running it again finishes."""
    make_business(region="PH")
    settings.DATA_KEYS_FILE = tmp_path / "data_keys"
    person = _register()
    ring = sealing.ring()
    sealing.write_ring(sealing.Ring((sealing.Key.new(), *ring.keys), ring.source))
    newcomer = customers.register(
        customers.Profile(name="Newcomer", phone="+639170000002"), by=None
    )
    assert newcomer.sealed_key.split(".")[0] != person.sealed_key.split(".")[0]
    assert [c.code for c in lookup.search("4567")] == [person.code]
    assert [c.code for c in lookup.search("0002")] == [newcomer.code]

    keys.rotate()
    assert len(sealing.ring().keys) == 1
    assert Customer.objects.get(pk=person.pk).phone == PHONE


@pytest.mark.django_db
def test_a_lost_key_file_is_named_by_verify(settings, tmp_path):
    make_business(region="PH")
    settings.DATA_KEYS_FILE = tmp_path / "data_keys"
    _register()
    settings.DATA_KEYS_FILE = tmp_path / "elsewhere"  # a fresh key; the old one is gone
    problems = [str(v) for v in verify()]
    assert any(p.startswith("[keys]") and "1 customers" in p for p in problems), problems


def test_keys_from_the_environment(monkeypatch):
    key = sealing.Key.new()
    monkeypatch.setenv(sealing.ENVIRONMENT, key.text())
    sealing._cache.pop(sealing.ENVIRONMENT, None)
    try:
        assert sealing.ring().current == key
        assert not sealing.ring().from_file
    finally:
        sealing._cache.pop(sealing.ENVIRONMENT, None)


@pytest.mark.django_db(transaction=True)
def test_answers_and_events_keep_no_contact_data_or_card_token_in_the_clear(api):
    """The answers kept for replaying a key and the webhook events are the API's JSON:
    sealed under the shop's key, opened for a replay and for a webhook."""
    from prepaid.operations.models import Event, Outcome
    from prepaid.webhooks.worker import body
    from tests.api.conftest import register

    person = register(api, "Rosario Dimaculangan", phone=PHONE, email=EMAIL, address=ADDRESS)
    code = person["code"]
    issued = api.cashier.post(f"/customers/{code}/cards", {"replace": True})
    assert issued.status_code == 201, issued.content
    token = issued.json()["token"]
    top_up = {"amount": "50.00", "method": "cash"}
    first = api.cashier.post(f"/customers/{code}/top-ups", top_up, key="t-1")
    again = api.cashier.post(f"/customers/{code}/top-ups", top_up, key="t-1")
    assert again.content == first.content  # the sealed answer, opened, byte for byte
    assert again["Idempotent-Replayed"] == "true"

    raw = database_bytes()
    for secret in (EMAIL, ADDRESS, "9171234567", token):
        assert secret.encode() not in raw, secret
    created = Event.objects.get(type="customer.created")
    assert created.data.startswith(sealing.RECORD)
    assert json.loads(body(created))["data"]["email"] == EMAIL
    assert all(o.body.startswith(sealing.RECORD) for o in Outcome.objects.all())
    assert Outcome.objects.get(key="t-1").customer.code == code
