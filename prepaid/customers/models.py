"""Customers and their cards.

A customer is known by a neutral code (never the database id); personal data hangs off
the customer. A card carries a secret token whose QR encodes ``SITE_URL/c/<token>``.
Balances are not stored here: they are ledger accounts owned by the customer.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from prepaid.lib.codes import new_code, new_token
from prepaid.staff.models import Store


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("code"), max_length=9, unique=True, default=new_code)
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    credit_limit_minor = models.BigIntegerField(_("credit limit"), default=0)
    home_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("home store")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(credit_limit_minor__gte=0), name="customer_credit_limit_gte_0"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["phone"]), models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Card(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self) -> str:
        return f"card of {self.customer.code}"

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/c/{self.token}"
