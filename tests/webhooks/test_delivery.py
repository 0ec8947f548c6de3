"""Deliveries of real operations to a real receiver on 127.0.0.1: signed, with the
documented body, in order per customer; retries after a 500 and after a time-out; failed
after the last retry; an endpoint that fails for a day is disabled, and the owner told.

The worker's clock is passed in (``work(now)``): a day of retries takes no time."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from prepaid.operations.customers import Contact, RegisterCustomer
from prepaid.operations.envelope import run
from prepaid.operations.models import Event
from prepaid.staff.models import AuditEvent
from prepaid.staff.refusals import Refusal
from prepaid.webhooks import services, worker
from prepaid.webhooks.models import Delivery, Endpoint
from tests.webhooks.conftest import STALL, sell, subscribe, top_up, work

pytestmark = pytest.mark.usefixtures("local")


def test_operations_arrive_signed_with_the_documented_body_in_order(receiver, counter):
    subscribe(receiver)
    registered = run(
        RegisterCustomer(Contact(name="Maria Santos")), actor=counter.actor, scope="t", key="r1"
    )
    maria = registered.data["code"]
    topped = top_up(maria, "10.00", counter.actor)
    sold = sell(maria, counter.product_id, "2", counter.actor)

    assert work() == 3 + 3  # three events dispatched, three deliveries sent
    assert receiver.forged == []  # every signature checked out with the guide's code
    events = Event.objects.order_by("id")
    assert [r.event for r in receiver.requests] == [
        {
            "id": event.uid,
            "type": kind,
            "created_at": DjangoJSONEncoder().default(event.created_at),
            "data": answer,
        }
        for event, kind, answer in zip(
            events,
            ["customer.created", "top_up.created", "sale.created"],
            [registered.data, topped.data, sold.data],
            strict=True,
        )
    ]
    first = receiver.requests[0]
    assert first.headers["content-type"] == "application/json"
    assert first.path == "/hooks/prepaid"
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert all(event.dispatched_at for event in events)


def test_only_the_subscribed_types_go_to_an_endpoint_and_none_to_a_paused_one(receiver, counter):
    sales_only = subscribe(receiver, ["sale.created"])
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    sell(maria, counter.product_id, "1", counter.actor)
    work()
    assert [r.event["type"] for r in receiver.requests] == ["sale.created"]

    services.set_active(sales_only, False, by=None)
    sell(maria, counter.product_id, "1", counter.actor)
    work()
    assert len(receiver.requests) == 1
    assert Delivery.objects.count() == 1  # nothing queued for a paused endpoint


def test_a_refused_sale_emits_nothing_and_nothing_is_sent(receiver, counter):
    subscribe(receiver)
    maria = counter.customer("Maria")
    with pytest.raises(Refusal) as refused:
        sell(maria, counter.product_id, "2", counter.actor)  # the balance is 0
    assert refused.value.code == "insufficient_funds"
    assert work() == 0
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert receiver.requests == []


def test_a_500_is_retried_after_a_minute_and_delivered(receiver, counter):
    subscribe(receiver)
    receiver.script = lambda number, request: 500 if number == 1 else 200
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    now = timezone.now()

    work(now)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    attempt = delivery.tries.get()
    assert (attempt.status_code, attempt.response) == (500, "received.")
    assert delivery.endpoint.failing_since == now

    assert work(now + timedelta(seconds=59)) == 0  # not due yet
    work(now + timedelta(minutes=1))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert [r.event["id"] for r in receiver.requests] == [delivery.event.uid] * 2
    assert Endpoint.objects.get().failing_since is None  # a success clears the failing state


def test_a_receiver_slower_than_the_timeout_is_tried_again(receiver, counter, settings):
    settings.PREPAID_WEBHOOK_TIMEOUT_SECONDS = 0.5
    subscribe(receiver)
    receiver.script = lambda number, request: STALL if number == 1 else 200
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    now = timezone.now()

    work(now)  # the first request stalls until the test lets it go, long after the timeout
    attempt = Delivery.objects.get().tries.get()
    assert attempt.status_code is None
    assert attempt.error == "timed out after 0.5 s"
    assert 400 <= attempt.latency_ms < 5000
    receiver.release.set()

    work(now + timedelta(minutes=1))
    assert Delivery.objects.get().state == "delivered"
    assert len(receiver.requests) == 2


def test_a_later_event_of_a_customer_waits_for_the_earlier_one(receiver, counter):
    subscribe(receiver)
    maria, jun = counter.customer("Maria"), counter.customer("Jun")
    failing = {"first": True}

    def script(number, request):
        if request.event["data"]["customer"] == maria and failing.pop("first", False):
            return 503
        return 200

    receiver.script = script
    top_up(maria, "10.00", counter.actor)
    sell(maria, counter.product_id, "1", counter.actor)
    top_up(jun, "5.00", counter.actor)
    now = timezone.now()

    work(now)
    sent = [(r.event["type"], r.event["data"]["customer"]) for r in receiver.requests]
    # Maria's top-up failed, so her sale waits; Jun's top-up has no reason to.
    assert sorted(sent) == sorted([("top_up.created", jun), ("top_up.created", maria)])

    work(now + timedelta(minutes=1))
    delivered = [(r.event["type"], r.event["data"]["customer"]) for r in receiver.requests]
    assert delivered[2:] == [("top_up.created", maria), ("sale.created", maria)]


def test_events_without_a_customer_wait_for_nothing(receiver, counter):
    endpoint = subscribe(receiver)
    receiver.script = lambda number, request: 500 if number == 1 else 200
    services.ping(endpoint, by=None)
    services.ping(endpoint, by=None)
    work()
    assert [r.event["type"] for r in receiver.requests] == ["ping", "ping"]
    assert sorted(Delivery.objects.values_list("state", flat=True)) == ["delivered", "pending"]


def test_after_the_last_retry_the_delivery_fails_and_a_day_of_failures_disables(
    receiver, counter, caplog, owner, manager, cashier_a
):
    endpoint = subscribe(receiver)
    receiver.script = lambda number, request: 500
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    now = timezone.now()
    receiver.clock = lambda: now.timestamp()  # the receiver lives in the worker's day

    with caplog.at_level(logging.WARNING, logger="prepaid.webhooks"):
        work(now)
        for wait in worker.BACKOFF:
            now += wait
            assert work(now) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.tries.count()) == ("failed", 14, 14)
    assert len(receiver.requests) == 14 and receiver.forged == []
    assert sum(worker.BACKOFF, timedelta()) == timedelta(hours=24, minutes=15)

    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.disabled_at) == ("disabled", now)
    audit = AuditEvent.objects.get(action="webhook.disabled")
    assert audit.subject == f"webhook:{endpoint.pk}" and audit.after["url"] == endpoint.url
    assert "disabled" in caplog.text and endpoint.url in caplog.text
    assert list(services.disabled_for(owner)) == [endpoint]
    assert list(services.disabled_for(manager)) == [endpoint]
    assert list(services.disabled_for(cashier_a)) == []
    office = Client()
    office.force_login(owner.user)
    page = office.get("/shop/webhooks/").content.decode()
    assert "disabled after a whole day of failed deliveries" in page

    # Nothing more is queued for it until someone activates it again.
    sell(maria, counter.product_id, "1", counter.actor)
    work(now)
    assert Delivery.objects.count() == 1
    endpoint = services.set_active(endpoint, True, by=owner)
    receiver.script = lambda number, request: 200
    services.ping(endpoint, by=owner)
    work(now)
    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.failing_since, endpoint.disabled_at) == ("active", None, None)
    assert list(services.disabled_for(owner)) == []


def test_an_endpoint_failing_for_less_than_a_day_stays_active(receiver, counter):
    endpoint = subscribe(receiver)
    receiver.script = lambda number, request: 500
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    now = timezone.now()
    work(now)
    for wait in worker.BACKOFF[:-1]:  # the last but one attempt is 20 h 15 min later
        now += wait
        work(now)
    endpoint.refresh_from_db()
    assert endpoint.state == "active" and endpoint.failing_since is not None


def test_send_again_queues_a_delivered_or_failed_delivery_once_more(receiver, counter):
    endpoint = subscribe(receiver)
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    work()
    delivery = Delivery.objects.get()
    again = services.send_again(delivery, by=None)
    assert (again.state, again.attempts) == ("pending", 0)
    with pytest.raises(Refusal) as refused:
        services.send_again(delivery, by=None)
    assert refused.value.code == "webhook_delivery_pending"
    work()
    assert receiver.ids() == [delivery.event.uid] * 2  # the same event id: a duplicate
    assert Delivery.objects.get().state == "delivered"
    assert AuditEvent.objects.filter(action="webhook.sent_again").count() == 1
    assert endpoint.deliveries.count() == 1


def test_a_test_event_goes_to_its_endpoint_only(receiver, counter):
    endpoint = subscribe(receiver)
    other = services.create_endpoint("http://127.0.0.1:9/", ["sale.created"], by=None)[0]
    delivery = services.ping(endpoint, by=None)
    work()
    assert [r.event["type"] for r in receiver.requests] == ["ping"]
    assert receiver.requests[0].event["data"] == {
        "webhook": endpoint.pk,
        "message": "A test event from prepaid.",
    }
    assert not other.deliveries.exists()
    assert Delivery.objects.get(pk=delivery.pk).state == "delivered"
    services.set_active(endpoint, False, by=None)
    with pytest.raises(Refusal) as refused:
        services.ping(endpoint, by=None)
    assert refused.value.code == "webhook_not_active"


def test_a_redirect_is_not_followed(receiver, counter):
    subscribe(receiver)
    receiver.script = lambda number, request: 302
    services.ping(Endpoint.objects.get(), by=None)
    work()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.tries.get().status_code == 302
    assert len(receiver.requests) == 1


def test_the_body_is_the_same_bytes_on_every_attempt(receiver, counter):
    subscribe(receiver)
    receiver.script = lambda number, request: 500 if number == 1 else 200
    maria = counter.customer("Maria 王芳")
    top_up(maria, "10.00", counter.actor)
    now = timezone.now()
    work(now)
    work(now + timedelta(minutes=1))
    first, second = receiver.requests
    assert first.body == second.body
    assert json.loads(first.body)["data"]["customer"] == maria
    assert first.headers["prepaid-signature"] != second.headers["prepaid-signature"]  # new t


def test_prepaid_webhooks_once_sends_what_is_due_and_exits(receiver, counter):
    subscribe(receiver)
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    sell(maria, counter.product_id, "1", counter.actor)
    out = StringIO()
    call_command("webhooks", once=True, stdout=out)
    assert out.getvalue() == "Handled 4 events and deliveries.\n"
    assert [r.event["type"] for r in receiver.requests] == ["top_up.created", "sale.created"]
