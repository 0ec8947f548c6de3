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
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch
from prepaid.staff.models import ApiToken, Device, Staff, Store


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


class Approval(models.Model):
    """A request for a second person's approval (maker-checker, docs/security.md).

    An operation that needs one (a refund above the shop's threshold, say) is not
    performed when it is asked: it is kept here as it was asked (its class and its
    fields; the frozen dataclass is its own fingerprint) with the maker (who asked,
    where), the kind and the amount that made it wait. ``pending`` becomes ``approved``
    (the operation then runs once, booked as the maker's, and ``batch`` is what it
    posted), ``rejected`` (with the checker's reason) or ``withdrawn`` (by the maker).
    ``owner_made``: the owner did it themselves, with no second person to ask; it ran at
    once and is listed among the day's exceptions. Every change of state is audited.
    """

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        REVERSAL = "reversal", _("Reversal")
        CREDIT_LIMIT = "credit_limit", _("Credit-limit raise")
        BONUS = "bonus", _("Large bonus")
        OPENING = "opening", _("Opening balances after the first day")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        OWNER_MADE = "owner_made", _("Done by the owner")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    operation = models.CharField(max_length=60, help_text="The operation's class")
    fields = models.JSONField(help_text="The operation's fields, as asked")
    fingerprint = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField(help_text="What made it wait: the amount, the limit")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True, help_text="The maker's reason")
    # the maker: who asked, where (the operation runs as theirs)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # the checker, and what they decided
    decided_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decision_note = models.CharField(max_length=255, blank=True)
    batch = models.OneToOneField(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="approval"
    )

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(staff__isnull=False) | Q(api_token__isnull=False),
                name="approval_has_maker",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["id"], condition=Q(status="pending"), name="approval_pending")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"
