"""The outbox's dispatch: every consumer gets each committed event once, in id order, in
the transaction that marks it dispatched; a consumer that fails leaves the events for
the next round. And every event type an operation emits is one an endpoint can choose."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import timezone

from prepaid.operations import outbox
from prepaid.operations.models import Event
from prepaid.staff.roles import PERMISSIONS
from prepaid.webhooks.models import Delivery
from tests.webhooks.conftest import sell, subscribe, top_up

OPERATIONS = Path(__file__).resolve().parents[2] / "prepaid" / "operations"


def test_every_event_type_an_operation_emits_can_be_subscribed_to():
    """Event types are "noun.verb-ed" literals in prepaid/operations ("sale.created")."""
    emitted = set()
    for path in OPERATIONS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and re.fullmatch(r"[a-z_]+\.[a-z_]+ed", text):
                emitted.add(text)
    emitted -= set(PERMISSIONS)  # an action of the role table could look the same
    assert emitted - set(outbox.EVENT_TYPES) == set()
    assert {"sale.created", "card.replaced", "customer.updated"} <= emitted


@pytest.fixture
def recorder():
    """A second consumer, as e-mail will be: what it was handed, in order."""
    taken: list[tuple[str, str]] = []

    def take(events, now):
        taken.extend((event.uid, event.type) for event in events)

    outbox.register(outbox.Consumer("recorder", take=take, work=lambda now: 0))
    yield taken
    del outbox._CONSUMERS["recorder"]


def test_each_consumer_gets_each_event_once_in_order(local, receiver, counter, recorder):
    subscribe(receiver, ["sale.created"])
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)
    sell(maria, counter.product_id, "1", counter.actor)
    assert [c.name for c in outbox.consumers()] == [
        "day summaries",
        "expiry",
        "webhooks",
        "messages",
        "recorder",
    ]

    assert outbox.dispatch() == 2
    assert outbox.dispatch() == 0
    events = list(Event.objects.order_by("id"))
    assert recorder == [(event.uid, event.type) for event in events]
    assert all(event.dispatched_at for event in events)
    assert [d.event.type for d in Delivery.objects.all()] == ["sale.created"]


def test_a_failing_consumer_leaves_the_events_for_the_next_round(local, receiver, counter):
    subscribe(receiver)
    maria = counter.customer("Maria")
    top_up(maria, "10.00", counter.actor)

    def broken(events, now):
        raise RuntimeError("the e-mail consumer has a bug")

    outbox.register(outbox.Consumer("broken", take=broken, work=lambda now: 0))
    try:
        with pytest.raises(RuntimeError):
            outbox.dispatch()
    finally:
        del outbox._CONSUMERS["broken"]
    assert Event.objects.get().dispatched_at is None
    assert not Delivery.objects.exists()  # the webhooks' rows rolled back with it
    assert outbox.dispatch() == 1
    assert Delivery.objects.count() == 1


def test_dispatch_takes_a_batch_at_a_time(local, receiver, counter):
    subscribe(receiver)
    maria = counter.customer("Maria")
    for _ in range(3):
        top_up(maria, "1.00", counter.actor)
    now = timezone.now()
    assert outbox.dispatch(now=now, limit=2) == 2
    assert outbox.dispatch(now=now, limit=2) == 1
    assert Delivery.objects.count() == 3
