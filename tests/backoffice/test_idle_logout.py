"""A back-office login left alone for ``BACKOFFICE_IDLE_MINUTES`` (30 by default) ends:
the next page goes to the login page, which says why; the logout is audited with its
reason. Working keeps it open. The counter keeps its own lock (tests/counter)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.test import Client

from prepaid.customers.models import Customer
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import AuditEvent

pytestmark = pytest.mark.django_db

CLOCK = "prepaid.web.middleware.time.time"


def signed_in(staff) -> Client:
    client = Client()
    client.post("/login/", {"username": staff.user.username, "password": "owner-pass-1"})
    assert client.get("/").status_code == 200  # starts the idle clock
    return client


def test_thirty_idle_minutes_end_the_login(owner):
    client = signed_in(owner)
    later = time.time() + 30 * 60 + 1
    with mock.patch(CLOCK, return_value=later):
        response = client.get("/customers/?q=maria")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/customers/%3Fq%3Dmaria"
    page = client.get(response["Location"]).content.decode()
    assert "You were logged out after 30 minutes without activity. Please log in again." in page
    assert client.get("/").status_code == 302
    event = AuditEvent.objects.get(action="logout")
    assert (event.staff, event.after["reason"]) == (owner, "idle")


def test_working_keeps_the_login_open(owner):
    client = signed_in(owner)
    start = time.time()
    for minutes in (20, 40, 60, 80):  # a page every twenty minutes
        with mock.patch(CLOCK, return_value=start + minutes * 60):
            assert client.get("/").status_code == 200
    assert not AuditEvent.objects.filter(action="logout").exists()


def test_the_idle_time_is_a_setting(owner, settings):
    settings.BACKOFFICE_IDLE_MINUTES = 5
    client = signed_in(owner)
    with mock.patch(CLOCK, return_value=time.time() + 4 * 60):
        assert client.get("/").status_code == 200
    with mock.patch(CLOCK, return_value=time.time() + 10 * 60):
        assert client.get("/").status_code == 302


def test_an_htmx_request_is_sent_to_the_login_page_whole(owner):
    client = signed_in(owner)
    with mock.patch(CLOCK, return_value=time.time() + 31 * 60):
        response = client.get("/customers/?q=m", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_a_form_sent_after_the_idle_time_is_not_saved(owner):
    client = signed_in(owner)
    with mock.patch(CLOCK, return_value=time.time() + 31 * 60):
        response = client.post("/customers/new/", {"name": "Maria Santos"})
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"
    assert not Customer.objects.exists()


def test_the_idle_message_in_chinese_and_dutch(owner):
    for language, words in (("zh-hans", "30 分钟"), ("nl", "30 minuten")):
        client = signed_in(owner)
        with mock.patch(CLOCK, return_value=time.time() + 31 * 60):
            response = client.get("/", HTTP_ACCEPT_LANGUAGE=language, follow=True)
        assert words in response.content.decode()


def test_an_idle_counter_keeps_its_own_lock(owner, cashier_a, store_a, settings):
    """The counter's session holds no login: the back office's idle time-out leaves it
    alone, and the counter asks for a PIN after the shop's own idle minutes (5)."""
    settings.BACKOFFICE_IDLE_MINUTES = 1
    counters.set_pin(cashier_a, "4827", by=owner)
    _device, secret = counters.enroll(store_a, "Till 1", by=owner)
    till = Client()
    till.cookies[COOKIE] = secret
    till.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": "4827"})
    assert till.get("/counter/").status_code == 200
    with mock.patch(CLOCK, return_value=time.time() + 4 * 60):
        assert till.get("/counter/").status_code == 200
    with mock.patch(CLOCK, return_value=time.time() + 10 * 60):
        assert till.get("/counter/")["Location"] == "/counter/unlock/"
