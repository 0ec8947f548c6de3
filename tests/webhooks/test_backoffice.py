"""The Webhooks pages: an owner adds an endpoint and sees its secret once, sees the
deliveries, sends one again, sends a test event, pauses, activates, deletes; a manager
may too; a cashier and an accountant may not."""

from __future__ import annotations

import pytest
from django.test import Client

from prepaid.staff.models import AuditEvent
from prepaid.webhooks import services
from prepaid.webhooks.models import Delivery, Endpoint
from tests.webhooks.conftest import work

pytestmark = pytest.mark.usefixtures("local")
PAGES = ["/shop/webhooks/", "/shop/webhooks/new/"]


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.fixture
def everyone(owner, manager, cashier_a, accountant):
    return {"owner": owner, "manager": manager, "cashier": cashier_a, "accountant": accountant}


ROLES = [("owner", True), ("manager", True), ("cashier", False), ("accountant", False)]


@pytest.mark.parametrize(("role", "allowed"), ROLES)
def test_who_may_open_the_webhooks_pages(everyone, role, allowed):
    endpoint = services.create_endpoint("http://127.0.0.1:9/", ["sale.created"], by=None)[0]
    delivery = services.ping(endpoint, by=None)
    client = signed_in(everyone[role])
    for path in [*PAGES, f"/shop/webhooks/{endpoint.pk}/"]:
        assert client.get(path).status_code == (200 if allowed else 403), (role, path)
    posts = [
        f"/shop/webhooks/{endpoint.pk}/ping/",
        f"/shop/webhooks/{endpoint.pk}/state/",
        f"/shop/webhooks/deliveries/{delivery.pk}/again/",
        f"/shop/webhooks/{endpoint.pk}/delete/",
    ]
    for path in posts:
        assert client.post(path).status_code == (302 if allowed else 403), (role, path)
    assert Endpoint.objects.exists() != allowed
    assert Client().get("/shop/webhooks/").status_code == 302  # to the login


def test_an_owner_adds_an_endpoint_and_sees_the_secret_once(everyone, owner, receiver):
    client = signed_in(owner)
    form = client.get("/shop/webhooks/new/").content.decode()
    assert 'type="checkbox"' in form and "sale.created" in form
    added = client.post(
        "/shop/webhooks/new/", {"url": receiver.url, "events": ["sale.created", "top_up.created"]}
    )
    assert added.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["sale.created", "top_up.created"]
    page = added.content.decode()
    assert endpoint.secret in page and "shown only this once" in page
    assert AuditEvent.objects.get(action="webhook.created").staff == owner

    listed = client.get("/shop/webhooks/").content.decode()
    detail = client.get(f"/shop/webhooks/{endpoint.pk}/").content.decode()
    assert receiver.url in listed and endpoint.secret not in listed
    assert endpoint.secret not in detail


def test_a_refused_url_or_no_event_is_said_on_the_form(everyone, owner, settings):
    settings.PREPAID_WEBHOOK_ALLOW_HOSTS = ""
    client = signed_in(owner)
    local = client.post("/shop/webhooks/new/", {"url": "http://10.0.0.2/", "events": ["ping"]})
    assert local.status_code == 200 and not Endpoint.objects.exists()
    assert "Select a valid choice" in local.content.decode()  # ping is no subscription
    private = client.post(
        "/shop/webhooks/new/", {"url": "http://10.0.0.2/", "events": ["sale.created"]}
    )
    assert "local, private or reserved address" in private.content.decode()
    nothing = client.post("/shop/webhooks/new/", {"url": "https://93.184.215.14/"})
    assert "Choose at least one event." in nothing.content.decode()
    assert not Endpoint.objects.exists()


def test_the_log_shows_deliveries_and_send_again_queues_one(everyone, manager, receiver):
    endpoint, receiver.secret = services.create_endpoint(receiver.url, ["sale.created"], by=None)
    client = signed_in(manager)
    client.post(f"/shop/webhooks/{endpoint.pk}/ping/")
    work()
    delivery = Delivery.objects.get()
    page = client.get(f"/shop/webhooks/{endpoint.pk}/").content.decode()
    assert delivery.event.uid in page and "Delivered" in page and "received." in page
    assert "Send again" in page

    again = client.post(f"/shop/webhooks/deliveries/{delivery.pk}/again/", follow=True)
    assert "will be sent again" in again.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "pending"
    assert AuditEvent.objects.get(action="webhook.sent_again").staff == manager
    work()
    assert receiver.ids() == [delivery.event.uid] * 2


def test_pause_activate_and_delete(everyone, owner):
    endpoint = services.create_endpoint("http://127.0.0.1:9/", ["sale.created"], by=None)[0]
    client = signed_in(owner)
    client.post(f"/shop/webhooks/{endpoint.pk}/state/", {"active": "0"})
    endpoint.refresh_from_db()
    assert endpoint.state == "paused"
    page = client.get(f"/shop/webhooks/{endpoint.pk}/").content.decode()
    assert "Activate" in page and "Send a test event" not in page
    client.post(f"/shop/webhooks/{endpoint.pk}/state/", {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.state == "active"
    gone = client.post(f"/shop/webhooks/{endpoint.pk}/delete/", follow=True)
    assert "is deleted" in gone.content.decode()
    assert not Endpoint.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["webhook.paused", "webhook.activated", "webhook.deleted"]


def test_the_notice_names_disabled_endpoints(everyone, owner):
    endpoint = services.create_endpoint("http://127.0.0.1:9/", ["sale.created"], by=None)[0]
    Endpoint.objects.filter(pk=endpoint.pk).update(state=Endpoint.State.DISABLED)
    client = signed_in(owner)
    listed = client.get("/shop/webhooks/").content.decode()
    detail = client.get(f"/shop/webhooks/{endpoint.pk}/").content.decode()
    assert "A webhook endpoint was disabled after a whole day of failed deliveries" in listed
    assert "activate it again" in detail
