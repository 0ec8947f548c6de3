"""A customer's message log: what the back office lists, what an access request
exports, and what an erasure clears (the recipients and bodies; what was sent when
stays, without them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from prepaid.customers.models import Customer
from prepaid.messaging.models import Message

SHOWN = 50  # the newest messages the customer's page lists


def of(customer: Customer, *, limit: int = SHOWN) -> QuerySet[Message]:
    return Message.objects.filter(customer=customer).order_by("-created_at", "-id")[:limit]


def scrub(person: Customer) -> None:
    """The erasure's share: no recipient, no body; a message not sent yet never will be."""
    Message.objects.filter(customer=person, status=Message.Status.WAITING).update(
        status=Message.Status.SKIPPED, reason="erased", next_attempt_at=None
    )
    Message.objects.filter(customer=person).update(sealed_recipient="", sealed_body="")


def export(person: Customer) -> list[dict[str, Any]]:
    """The messages sent (or meant) to the person, with whom they went to."""
    found = []
    for message in Message.objects.filter(customer=person).order_by("created_at", "id"):
        recipient = ""
        if message.sealed_recipient:
            recipient = person.unseal(message.sealed_recipient, f"message:{message.key}:to")
        found.append(
            {
                "kind": message.kind,
                "channel": message.channel,
                "to": recipient,
                "subject": message.subject,
                "language": message.language,
                "status": message.status,
                "reason": message.reason,
                "attempts": message.attempts,
                "created_at": message.created_at,
                "sent_at": message.sent_at,
            }
        )
    return found
