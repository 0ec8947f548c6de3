"""Messages to customers: one row per e-mail or SMS, its log in the back office.

A ``Message`` is written when the outbox dispatches the event it answers (a receipt, a
low-balance notice) or when the daily look for what is about to expire finds something
(a reminder); the worker sends it later, outside any transaction (``worker``).
``key`` is unique: an event dispatched twice, or a reminder looked for twice, makes one
message. The recipient and the body are the customer's personal data: sealed with the
customer's key (``Customer.seal``), unreadable once the customer is erased, and cleared
by the erasure. ``last_error`` names what failed (the exception's type, the server's
code), never an address or a body.

``status``: ``waiting`` (due at ``next_attempt_at``), ``sent``, ``failed`` (the
retries ran out) or ``skipped`` (``reason`` says why: the consent was withdrawn, the
address removed, the customer erased before it left).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.customers.models import Customer
from prepaid.operations.models import Event


class Message(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        LOW_BALANCE = "low_balance", _("Low balance")
        EXPIRY_REMINDER = "expiry_reminder", _("Expiry reminder")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class Reason(models.TextChoices):
        ERASED = "erased", _("The customer's data was erased")
        NO_CONSENT = "no_consent", _("The customer withdrew the consent")
        OPTED_OUT = "opted_out", _("The customer turned receipts off")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="messages")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=120, unique=True, help_text="One message per key")
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=200, blank=True)
    sealed_recipient = models.TextField(blank=True, help_text="sealed with the customer's key")
    sealed_body = models.TextField(blank=True, help_text="sealed JSON: text, html")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes: ClassVar = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="waiting"), name="message_due"
            ),
            models.Index(fields=["customer", "created_at"], name="message_customer_log"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.customer_id}: {self.status}"
