"""The cashier sets, removes and unlocks a customer's kiosk PIN from the customer panel
(issue #13, docs/kiosk.md)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from prepaid.customers import pins
from prepaid.customers.models import KioskPin
from prepaid.staff.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_cashier_sets_a_pin_for_the_customer_at_the_counter(till, maria, cashier_a):
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Kiosk PIN" in panel and "No PIN" in panel

    done = till.post(f"/counter/c/{maria.code}/kiosk-pin/", {"do": "set", "pin": "2719"})

    assert done.status_code == 302 and done["Location"].endswith("#kiosk-pin")
    assert check_password("2719", KioskPin.objects.get(customer=maria).pin_hash)
    event = AuditEvent.objects.get(action="customer.kiosk_pin_set")
    assert event.staff == cashier_a and event.after == {"how": "counter"}
    assert "The kiosk PIN is set." in till.get(done["Location"]).content.decode()


def test_a_short_pin_is_refused_and_nothing_is_set(till, maria):
    done = till.post(f"/counter/c/{maria.code}/kiosk-pin/", {"do": "set", "pin": "27"})
    assert "4 to 6 digits" in till.get(done["Location"]).content.decode()
    assert not KioskPin.objects.filter(customer=maria).exists()


def test_the_panel_shows_a_lock_and_the_cashier_lifts_it(till, maria, cashier_a):
    pins.set_pin(maria, "2719", by=None, how="portal")
    KioskPin.objects.filter(customer=maria).update(locked_at="2026-12-01T10:00Z", failures=0)
    panel = till.get(f"/counter/c/{maria.code}/").content.decode()
    assert "Kiosk locked after too many wrong PINs." in panel

    till.post(f"/counter/c/{maria.code}/kiosk-pin/", {"do": "unlock"})

    assert KioskPin.objects.get(customer=maria).locked_at is None
    assert AuditEvent.objects.get(action="kiosk.unlocked").staff == cashier_a


def test_a_locked_counter_changes_no_pin(device, maria):
    from tests.counter.conftest import at_counter

    client = at_counter(device)  # enrolled, but nobody unlocked it
    answer = client.post(f"/counter/c/{maria.code}/kiosk-pin/", {"do": "set", "pin": "2719"})
    assert answer.status_code == 302 and answer["Location"] == "/counter/unlock/"
    assert not KioskPin.objects.filter(customer=maria).exists()
