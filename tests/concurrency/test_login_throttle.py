"""Wrong passwords sent at the same moment all count: each failure grows its count in
the count's locked row (``staff.logins``), so an attacker cannot slip guesses past the
throttle by sending them together.

The control removes the lock and holds every worker at a barrier between reading the
count and writing it back (the gap a busy server leaves): they all read the same count
and most failures are lost. On SQLite one writer runs at a time, so there is no race to
show (the workers would wait at the barrier for the writer that holds the database):
the control runs on PostgreSQL only.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client

from prepaid.staff.models import AuditEvent, LoginThrottle
from tests.concurrency.test_debits import run_workers
from tests.factories import make_business, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 4  # fewer than the five that start the back-off: every attempt is looked at


def wrong_passwords_at_once() -> None:
    def work(worker: int) -> None:
        response = Client().post(
            "/login/",
            {"username": "olivia", "password": f"guess-{worker}"},
            REMOTE_ADDR=f"198.51.100.{worker}",
        )
        assert response.status_code == 200

    run_workers(WORKERS, work)


@pytest.fixture
def shop():
    make_business()
    make_staff("Olivia", role="owner", password="owner-pass-1")


def test_wrong_passwords_sent_together_all_count(shop):
    wrong_passwords_at_once()
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    assert throttle.failures == WORKERS
    assert AuditEvent.objects.filter(action="login.failed").count() == WORKERS


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer")
def test_control_without_the_lock_failures_are_lost(shop):
    LoginThrottle.objects.create(kind="name", value="olivia")
    read = threading.Barrier(WORKERS, timeout=60)
    real_save = LoginThrottle.save

    def save_after_everyone_read(self, *args, **kwargs):
        if self.kind == "name":
            read.wait()  # everyone has read the count before anyone writes it
        return real_save(self, *args, **kwargs)

    with (
        mock.patch.object(QuerySet, "select_for_update", lambda self, **kw: self),
        mock.patch.object(LoginThrottle, "save", save_after_everyone_read),
    ):
        wrong_passwords_at_once()
    throttle = LoginThrottle.objects.get(kind="name", value="olivia")
    assert throttle.failures < WORKERS, "no failure was lost without the lock: no race shown"
