"""Wrong kiosk PINs typed at the same moment all count (docs/kiosk.md): each failure
grows the customer's count in its locked row (``customers.pins.try_pin``), so PINs sent
together from several kiosks cannot slip past the five that lock the customer out.

The control removes the lock and holds every worker at a barrier between reading the
count and writing it back: they all read the same count and failures are lost. On
SQLite one writer runs at a time, so there is no race to show: the control runs on
PostgreSQL only.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection
from django.db.models import QuerySet

from prepaid.customers import pins
from prepaid.customers.models import KioskPin
from prepaid.staff import counters
from prepaid.staff.models import AuditEvent, Device
from tests.concurrency.test_debits import run_workers
from tests.factories import make_customer, make_staff, make_store

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 4  # fewer than the five that lock: every PIN is checked


@pytest.fixture
def setting():
    store = make_store("Store A")
    owner = make_staff("Olivia", role="owner", store=store, password="owner-pass-1")
    kiosk, _secret = counters.enroll(store, "Wall tablet", by=owner, kind=Device.Kind.KIOSK)
    customer = make_customer("Maria Santos")
    pins.set_pin(customer, "4071", by=None, how="portal")
    return customer, kiosk


def wrong_pins_at_once(customer, kiosk) -> None:
    def work(worker: int) -> None:
        attempt = pins.try_pin(customer, f"90{worker}9", kiosk=kiosk)
        assert attempt.outcome == pins.Outcome.WRONG

    run_workers(WORKERS, work)


def test_wrong_pins_sent_together_all_count(setting):
    wrong_pins_at_once(*setting)
    assert KioskPin.objects.get().failures == WORKERS
    assert AuditEvent.objects.filter(action="kiosk.pin_failed").count() == WORKERS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer")
def test_control_without_the_lock_failures_are_lost(setting):
    read = threading.Barrier(WORKERS, timeout=60)

    def check_after_everyone_read(pin: str, pin_hash: str) -> bool:
        read.wait()  # everyone has read the count before anyone writes it
        return False

    with (
        mock.patch.object(QuerySet, "select_for_update", lambda self, **kw: self),
        mock.patch.object(pins, "check_password", check_after_everyone_read),
    ):
        wrong_pins_at_once(*setting)
    assert KioskPin.objects.get().failures < WORKERS, "no failure was lost: no race shown"
