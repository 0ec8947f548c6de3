"""Webhook endpoints as owners and managers change them (the back office and the API
alike): add, pause, activate, delete, send a delivery again, send a test event. Each
change is audited; a refused one raises a ``Refusal`` and changes nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from prepaid.operations.models import Event
from prepaid.operations.outbox import EVENT_TYPES
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Staff
from prepaid.staff.refusals import Refusal
from prepaid.staff.roles import may
from prepaid.webhooks import addresses
from prepaid.webhooks.models import Delivery, Endpoint

By = Staff | ApiToken | None
PING = "ping"  # the test event: sent to one endpoint, whatever it subscribes to


def new_secret() -> str:
    return f"whsec_{secrets.token_hex(24)}"


def checked_url(url: str) -> str:
    """``url`` if a webhook may go there now (``addresses``); a ``Refusal`` otherwise."""
    url = url.strip()
    try:
        addresses.check(url)
    except addresses.AddressRefused as refused:
        raise Refusal(refused.code, field="url", **refused.params) from None
    return url


def checked_events(events: Iterable[str]) -> list[str]:
    """The event types, sorted and once each; every one must exist."""
    chosen = sorted({event.strip() for event in events})
    if not chosen:
        raise Refusal("webhook_no_events", field="events")
    for event in chosen:
        if event not in EVENT_TYPES:
            raise Refusal(
                "webhook_unknown_event", field="events", name=event, detail=", ".join(EVENT_TYPES)
            )
    return chosen


def create_endpoint(url: str, events: Iterable[str], *, by: By) -> tuple[Endpoint, str]:
    """A new active endpoint, and its signing secret (to show once)."""
    url, chosen = checked_url(url), checked_events(events)
    secret = new_secret()
    with transaction.atomic():
        endpoint = Endpoint.objects.create(url=url, events=chosen, secret=secret)
        audit.record(
            "webhook.created", _subject(endpoint), by=by, after={"url": url, "events": chosen}
        )
    return endpoint, secret


def set_active(endpoint: Endpoint, active: bool, *, by: By) -> Endpoint:
    """Pause an endpoint, or activate it again (a disabled one too: its failing state is
    forgotten, and what was pending is sent)."""
    with transaction.atomic():
        # Lock the row (against the worker disabling it meanwhile), then read it.
        list(Endpoint.objects.select_for_update().filter(pk=endpoint.pk).values_list("pk"))
        endpoint.refresh_from_db()
        before = endpoint.state
        if active:
            endpoint.state = Endpoint.State.ACTIVE
            endpoint.failing_since = endpoint.disabled_at = None
        else:
            endpoint.state = Endpoint.State.PAUSED
        if endpoint.state != before:
            endpoint.save(update_fields=["state", "failing_since", "disabled_at"])
            action = "webhook.activated" if active else "webhook.paused"
            audit.record(
                action,
                _subject(endpoint),
                by=by,
                before={"state": before},
                after={"state": endpoint.state},
            )
    return endpoint


def delete_endpoint(endpoint: Endpoint, *, by: By) -> None:
    """The endpoint goes, with its deliveries and their log."""
    with transaction.atomic():
        audit.record(
            "webhook.deleted",
            _subject(endpoint),
            by=by,
            before={"url": endpoint.url, "events": endpoint.events, "state": endpoint.state},
        )
        endpoint.delete()


def send_again(delivery: Delivery, *, by: By, now: datetime | None = None) -> Delivery:
    """Queue a delivered or failed delivery once more, due now, with a full set of
    retries. It keeps its place in its customer's order: later events of the customer
    wait for it again."""
    at = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().select_related("event").get(pk=delivery.pk)
        if delivery.state == Delivery.State.PENDING:
            raise Refusal("webhook_delivery_pending")
        delivery.state = Delivery.State.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = at
        delivery.delivered_at = None
        delivery.lease, delivery.leased_until = "", None
        delivery.save()
        audit.record(
            "webhook.sent_again",
            f"webhook:{delivery.endpoint_id}",
            by=by,
            after={"event": delivery.event.uid, "type": delivery.event.type},
        )
    return delivery


def ping(endpoint: Endpoint, *, by: By, now: datetime | None = None) -> Delivery:
    """A test event (type ``ping``) for this endpoint alone, due now. It is an outbox
    event born dispatched, so no other consumer sees it."""
    if not endpoint.active:
        raise Refusal("webhook_not_active")
    at = now or timezone.now()
    data = {"webhook": endpoint.pk, "message": "A test event from prepaid."}
    with transaction.atomic():
        event = Event.objects.create(type=PING, data=json.dumps(data), dispatched_at=at)
        delivery = Delivery.objects.create(
            endpoint=endpoint, event=event, next_attempt_at=at, created_at=at
        )
        audit.record("webhook.pinged", _subject(endpoint), by=by, after={"event": event.uid})
    return delivery


def disabled_for(staff: Staff | None) -> Sequence[Endpoint]:
    """The endpoints the worker disabled, for a notice on every back-office page of those
    who may fix them; read only when a page shows it."""
    if staff is None or not may(staff.role, "webhooks"):
        return []
    disabled = SimpleLazyObject(
        lambda: list(Endpoint.objects.filter(state=Endpoint.State.DISABLED))
    )
    return cast(Sequence[Endpoint], disabled)


def _subject(endpoint: Endpoint) -> str:
    return f"webhook:{endpoint.pk}"
