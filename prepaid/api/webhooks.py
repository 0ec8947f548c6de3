"""Webhook endpoints (owner, manager): register one (its signing secret is answered this
once), list them, delete one, read its delivery log. The guide is docs/webhooks.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from prepaid.api.common import cursor_id, page_limit
from prepaid.api.errors import not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import ErrorOut, Input
from prepaid.lib.numbers import whole_number
from prepaid.operations.outbox import EVENT_TYPES
from prepaid.webhooks import services
from prepaid.webhooks.models import Attempt, Delivery, Endpoint

router = Router(tags=["webhooks"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
TYPES = ", ".join(f"`{name}`" for name in EVENT_TYPES)


class WebhookIn(Input):
    url: str = Field(
        description="Where to POST the events: a public http(s) address",
        examples=["https://erp.example.com/prepaid/events"],
        max_length=2000,
    )
    events: list[str] = Field(
        description=f"The event types to receive: {TYPES}",
        examples=[["sale.created", "top_up.created"]],
    )


class WebhookOut(Schema):
    id: int
    url: str = Field(examples=["https://erp.example.com/prepaid/events"])
    events: list[str] = Field(examples=[["sale.created", "top_up.created"]])
    active: bool = Field(description="Whether events are sent to it now")
    state: str = Field(
        description="`active`, `paused` (by a person) or `disabled` (after a whole day of"
        " failed deliveries; activate it again in the back office)",
        examples=["active"],
    )
    failing_since: datetime | None = Field(
        description="First failed delivery since the last good one, or null"
    )
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret: answered this once, never again",
        examples=["whsec_5f0c…"],
    )


class DeliveryOut(Schema):
    id: int
    event: str = Field(description="The event's id, as in the body sent", examples=["evt_…"])
    type: str = Field(examples=["sale.created"])
    state: str = Field(description="`pending`, `delivered` or `failed`", examples=["delivered"])
    attempts: int = Field(description="Attempts since it was queued")
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    status_code: int | None = Field(description="HTTP status of the last attempt")
    latency_ms: int | None = Field(description="Duration of the last attempt")
    response: str = Field(description="Start of the last answer's body")
    error: str = Field(description="What went wrong in the last attempt, if anything")
    created_at: datetime


class DeliveryPage(Schema):
    results: list[DeliveryOut]
    next: str | None = Field(description="Cursor of the next (older) page, or null")


class PageParams(Input):
    limit: int | None = None
    cursor: str | None = None


def _out(item: Endpoint) -> dict[str, Any]:
    return {
        "id": item.pk,
        "url": item.url,
        "events": item.events,
        "active": item.active,
        "state": item.state,
        "failing_since": item.failing_since,
        "created_at": item.created_at,
    }


def _delivery(item: Delivery) -> dict[str, Any]:
    last: Attempt | None = item.last[0] if item.last else None  # type: ignore[attr-defined]
    return {
        "id": item.pk,
        "event": item.event.uid,
        "type": item.event.type,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "delivered_at": item.delivered_at,
        "status_code": last.status_code if last else None,
        "latency_ms": last.latency_ms if last else None,
        "response": last.response if last else "",
        "error": last.error if last else "",
        "created_at": item.created_at,
    }


def _find(webhook_id: str) -> Endpoint:
    """The endpoint by its id. The path takes any text, so that a wrong role is told 403
    before the id is looked at."""
    found = None
    if (number := whole_number(webhook_id)) is not None:
        found = Endpoint.objects.filter(pk=number).first()
    if found is None:
        raise not_found(_("webhook endpoint"))
    return found


@router.post(
    "/webhooks",
    response={201: WebhookCreated, **ERRORS},
    **endpoint(
        "webhooks",
        "Register a webhook endpoint",
        description="The answer carries the signing `secret`: keep it, it is never shown"
        " again. The URL must be a public http(s) address (unless its host is listed in"
        " PREPAID_WEBHOOK_ALLOW_HOSTS on the server).",
    ),
)
def create_webhook(request: HttpRequest, body: WebhookIn) -> Status[dict[str, Any]]:
    token = require(request, "webhooks")
    item, secret = services.create_endpoint(body.url, body.events, by=token)
    return Status(201, {**_out(item), "secret": secret})


@router.get(
    "/webhooks",
    response={200: list[WebhookOut], **ERRORS},
    **endpoint("webhooks", "Webhook endpoints (without their secrets)"),
)
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, "webhooks")
    return [_out(item) for item in Endpoint.objects.all()]


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **ERRORS},
    **endpoint("webhooks", "Delete a webhook endpoint, with its delivery log"),
)
def delete_webhook(request: HttpRequest, webhook_id: str) -> Status[None]:
    token = require(request, "webhooks")
    services.delete_endpoint(_find(webhook_id), by=token)
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response={200: DeliveryPage, **ERRORS},
    **endpoint(
        "webhooks",
        "An endpoint's delivery log, newest first",
        description="Each event sent to the endpoint, with the outcome of its last attempt.",
    ),
)
def list_deliveries(
    request: HttpRequest, webhook_id: str, params: Query[PageParams]
) -> dict[str, Any]:
    require(request, "webhooks")
    item = _find(webhook_id)
    limit, before = page_limit(params.limit), cursor_id(params.cursor)
    deliveries = item.deliveries.select_related("event").order_by("-id")
    if before is not None:
        deliveries = deliveries.filter(id__lt=before)
    last = Prefetch("tries", queryset=Attempt.objects.order_by("-id"), to_attr="last")
    page = list(deliveries.prefetch_related(last)[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [_delivery(delivery) for delivery in page],
        "next": str(page[-1].pk) if more else None,
    }
