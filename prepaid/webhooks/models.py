"""Webhooks: endpoints the owner registers, and one delivery per event and endpoint.

* **Endpoint**: a URL, the event types it subscribes to, and the signing secret. The
  secret is kept as it was given (the worker must sign with it), in this database.
  ``state`` is ``active``, ``paused`` (by a person) or ``disabled`` (by the worker, after
  a whole day of failures; ``disabled_at`` says when, and the back office shows a notice
  until someone activates or deletes the endpoint). ``failing_since`` is the first
  failed attempt since the last success.
* **Delivery**: one event for one endpoint, written when the outbox dispatches the event
  (``worker.take``). ``pending`` until it is ``delivered`` (a 2xx answer) or ``failed``
  (retries exhausted); ``next_attempt_at`` says when it is due. A worker that sends it
  holds a lease (``lease`` and ``leased_until``) so that another worker leaves it alone;
  a worker that dies loses the lease when it runs out, and the delivery is sent again.
  ``customer`` copies the event's: a delivery is not sent while an earlier one of the
  same customer to the same endpoint is still pending.
* **Attempt**: every try of a delivery, for the delivery log: the HTTP status, how long
  it took, the start of the answer, or the error.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.customers.models import Customer
from prepaid.operations.models import Event


class Endpoint(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        DISABLED = "disabled", _("Disabled")

    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list, help_text="Event types, sorted")
    secret = models.CharField(max_length=100, help_text="Signing secret, kept to sign with")
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def active(self) -> bool:
        return self.state == self.State.ACTIVE


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Attempts since it was queued (or queued again)"
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_due"
            ),
            # "Is an earlier delivery of this customer still pending for this endpoint?"
            models.Index(
                fields=["endpoint", "customer", "event"],
                condition=Q(state="pending"),
                name="delivery_pending_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}: {self.state}"


class Attempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    response = models.CharField(max_length=500, blank=True, help_text="Start of the answer")
    error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
