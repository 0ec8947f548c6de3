"""The webhook consumer of the outbox: deliveries made at dispatch, sent when due.

``take`` (inside the outbox's dispatching transaction) writes one pending delivery per
event and active endpoint subscribed to its type. ``deliver`` (outside any transaction):

1. **Claims** due deliveries in one short transaction: pending, due, not leased by a
   live worker, on an active endpoint, and with no earlier pending delivery of the same
   customer to the same endpoint (events without a customer have no order to keep).
   Each gets a lease (``lease``, ``leased_until``) that other workers respect; on
   PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``, so two workers never
   claim the same one; SQLite has one writer.
2. **Posts** them, a few at a time on threads, without the database (``sending.post``).
3. **Records** each answer as it comes, in a short transaction: an ``Attempt`` row; a
   2xx delivers the delivery and clears the endpoint's failing state; anything else
   schedules the next attempt (``BACKOFF``) or, past the last, fails the delivery. An
   endpoint failing for ``DISABLE_AFTER`` is disabled: an audit entry, a warning in the
   log, a notice in the back office.

A worker killed between 2 and 3 leaves its deliveries leased; when the lease runs out
(the timeout plus a margin) they are sent again: at least once, and receivers drop the
duplicates by the event's id.

Pass ``now`` to control the clock (tests); by default it is the time of each step.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from prepaid.lib import sealing
from prepaid.operations.models import Event
from prepaid.operations.outbox import Consumer
from prepaid.staff import audit
from prepaid.webhooks import sending
from prepaid.webhooks.models import Attempt, Delivery, Endpoint

logger = logging.getLogger("prepaid.webhooks")

# The wait after each failed attempt: doubling from a minute, at most four hours; 14
# attempts in all, the last about 24 hours 15 minutes after the first. Then: failed.
BACKOFF = tuple(
    timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 64, 128, 240, 240, 240, 240, 240)
)
DISABLE_AFTER = timedelta(days=1)
CLAIM_BATCH = 20
SENDERS = 4  # deliveries posted at once: one slow receiver does not hold up the others


def timeout_seconds() -> float:
    """How long one attempt may take in all: ``PREPAID_WEBHOOK_TIMEOUT_SECONDS`` (10)."""
    return _number("PREPAID_WEBHOOK_TIMEOUT_SECONDS", 10.0)


def lease_seconds() -> float:
    """How long a claim keeps other workers off a delivery:
    ``PREPAID_WEBHOOK_LEASE_SECONDS``, by default the timeout plus 30 s; always more than
    the timeout."""
    timeout = timeout_seconds()
    return max(_number("PREPAID_WEBHOOK_LEASE_SECONDS", timeout + 30), timeout + 1)


def poll_seconds() -> float:
    """The worker's pause when nothing was due: ``PREPAID_WEBHOOK_POLL_SECONDS`` (1)."""
    return _number("PREPAID_WEBHOOK_POLL_SECONDS", 1.0)


def _number(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return float(value)


# -- dispatch ------------------------------------------------------------------------------


def take(events: Sequence[Event], now: datetime) -> None:
    """One pending delivery per event and active endpoint subscribed to its type."""
    endpoints = list(Endpoint.objects.filter(state=Endpoint.State.ACTIVE))
    deliveries = [
        Delivery(
            endpoint=endpoint,
            event=event,
            customer_id=event.customer_id,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.events
    ]
    Delivery.objects.bulk_create(deliveries)


def deliver(now: datetime | None = None) -> int:
    """Send every delivery that is due, batch after batch; answers how many were sent."""
    sent = 0
    while claimed := claim(now):
        sent += len(claimed)
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            futures = {pool.submit(_send, item): item for item in claimed}
            for future in as_completed(futures):
                record(futures[future], future.result(), now=now)
    return sent


CONSUMER = Consumer(name="webhooks", take=take, work=deliver)


# -- claim -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds the lease of, with all it needs to post it."""

    delivery_id: int
    lease: str
    url: str
    secret: str
    body: bytes
    timestamp: int


def due(now: datetime) -> QuerySet[Delivery]:
    """The deliveries a worker may send now (see the module docstring, step 1)."""
    earlier = Delivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        customer=OuterRef("customer"),
        state=Delivery.State.PENDING,
        event__lt=OuterRef("event"),
    )
    return (
        Delivery.objects.filter(
            state=Delivery.State.PENDING,
            next_attempt_at__lte=now,
            endpoint__state=Endpoint.State.ACTIVE,
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .filter(~Exists(earlier))
        .order_by("next_attempt_at", "id")
    )


def claim(now: datetime | None = None, *, limit: int = CLAIM_BATCH) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries to this worker, in one short transaction."""
    at = now or timezone.now()
    if not due(at).exists():  # a read, outside a transaction: no write lock when idle
        return []
    lease = uuid.uuid4().hex
    with transaction.atomic():
        chosen = list(
            due(at)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=chosen).update(
            lease=lease, leased_until=at + timedelta(seconds=lease_seconds())
        )
    held = Delivery.objects.filter(pk__in=chosen, lease=lease).select_related("endpoint", "event")
    return [
        Claimed(
            delivery.pk,
            lease,
            delivery.endpoint.url,
            delivery.endpoint.secret,
            body(delivery.event),
            int(at.timestamp()),
        )
        for delivery in held.order_by("next_attempt_at", "id")
    ]


def body(event: Event) -> bytes:
    """What a receiver gets: ``{"id", "type", "created_at", "data"}``, ``data`` being the
    object as the API answers it (the event's stored JSON)."""
    payload: dict[str, Any] = {
        "id": event.uid,
        "type": event.type,
        "created_at": event.created_at,
        "data": json.loads(sealing.open_record(event.data)),
    }
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False).encode()


def _send(item: Claimed) -> sending.Answer:
    return sending.post(
        item.url,
        item.body,
        secret=item.secret,
        timestamp=item.timestamp,
        timeout_seconds=timeout_seconds(),
    )


# -- record ------------------------------------------------------------------------------


def record(item: Claimed, answer: sending.Answer, *, now: datetime | None = None) -> None:
    """Keep the attempt and move the delivery on (see the module docstring, step 3). A
    delivery deleted meanwhile (with its endpoint) is left alone; one whose lease ran out
    and another worker took keeps the attempt in its log, and that worker decides."""
    at = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=item.delivery_id).first()
        if delivery is None:
            return
        Attempt.objects.create(
            delivery=delivery,
            started_at=at,
            status_code=answer.status_code,
            latency_ms=answer.latency_ms,
            response=answer.response,
            error=answer.error,
        )
        if delivery.lease != item.lease or delivery.state != Delivery.State.PENDING:
            return
        if answer.succeeded:
            _delivered(delivery, at)
        else:
            _failed(delivery, at)


def _delivered(delivery: Delivery, at: datetime) -> None:
    delivery.state = Delivery.State.DELIVERED
    delivery.attempts += 1
    delivery.delivered_at = at
    delivery.next_attempt_at = None
    delivery.lease, delivery.leased_until = "", None
    delivery.save()
    Endpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )


def _failed(delivery: Delivery, at: datetime) -> None:
    delivery.attempts += 1
    if delivery.attempts > len(BACKOFF):
        delivery.state = Delivery.State.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = at + BACKOFF[delivery.attempts - 1]
    delivery.lease, delivery.leased_until = "", None
    delivery.save()
    endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if endpoint.failing_since is None:
        endpoint.failing_since = at
        endpoint.save(update_fields=["failing_since"])
    elif at - endpoint.failing_since >= DISABLE_AFTER and endpoint.active:
        _disable(endpoint, at)


def _disable(endpoint: Endpoint, at: datetime) -> None:
    """A whole day of failures: stop sending (what is pending waits for the endpoint to
    be activated again), and tell the owner."""
    failing_since = endpoint.failing_since
    assert failing_since is not None
    endpoint.state = Endpoint.State.DISABLED
    endpoint.disabled_at = at
    endpoint.save(update_fields=["state", "disabled_at"])
    audit.record(
        "webhook.disabled",
        f"webhook:{endpoint.pk}",
        by=None,
        before={"state": Endpoint.State.ACTIVE.value},
        after={
            "state": endpoint.state,
            "url": endpoint.url,
            "failing_since": failing_since.isoformat(),
        },
    )
    logger.warning(
        "webhook endpoint %s (%s) disabled: every delivery has failed since %s",
        endpoint.pk,
        endpoint.url,
        failing_since.isoformat(),
    )
