"""What the API keeps for exactly-once requests: the stored answer to each key."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from prepaid.staff.models import ApiToken


class IdempotentRequest(models.Model):
    """A money-moving request's key, the digest of its body and the answer it got.

    Written in the same transaction as the transfers it caused, so there is never one
    without the other. Keys belong to their token: two integrations cannot collide.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="requests")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField(help_text="The JSON answer, byte for byte as first sent")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotent_request_key")
        ]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key} → {self.status_code}"
