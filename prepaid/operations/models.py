"""What the operation envelope keeps: each key's outcome, and the outbox.

Both are written in the operation's own transaction, with its transfers: an outcome
never exists without what it reports, and an event never exists for an operation that
rolled back, nor goes missing for one that committed.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q

from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch


class Outcome(models.Model):
    """The outcome of one operation under one idempotency key: what it did (``done``,
    with its answer) or why it was refused (``refused``, with the refusal's code and
    parameters). A retry with the key gets this outcome again.

    ``scope`` is whose keys these are: an API token (``api:7``), a counter
    (``counter:3``), a back-office login (``backoffice:2``), the command line.
    ``fingerprint`` is the digest of the operation as asked; empty for outcomes kept
    from before the envelope, which replay for any request.
    """

    class State(models.TextChoices):
        DONE = "done"
        REFUSED = "refused"

    scope = models.CharField(max_length=60)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    status_code = models.PositiveSmallIntegerField()
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Whom the answer is about, so erasing them clears it (``operations.privacy``).
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField(help_text="JSON, sealed (lib.sealing): the answer, or the refusal")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scope", "key"], name="outcome_one_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} → {self.state}"


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


class Event(models.Model):
    """An outbox row: something that happened, for the world outside (webhooks; later
    e-mail and SMS). ``data`` is the JSON the API answers for the object. A worker hands
    each event to its consumers and sets ``dispatched_at``; events of one customer keep
    their order (``id``)."""

    uid = models.CharField(max_length=40, unique=True, default=new_event_id)
    type = models.CharField(max_length=40)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.TextField(help_text="JSON, sealed (lib.sealing.seal_record)")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"
            )
        ]

    def __str__(self) -> str:
        return f"{self.uid} {self.type}"
