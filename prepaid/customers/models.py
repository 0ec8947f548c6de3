"""Customers, their cards and notes.

A customer is known by a neutral code (never the database id); personal data hangs off
the customer. A card carries a secret token whose QR encodes ``SITE_URL/c/<token>``.
Balances are not stored here: they are ledger accounts owned by the customer.
Every write goes through ``customers.services``, which keeps the search columns right.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.lib.codes import new_code, new_token
from prepaid.staff.models import Staff, Store


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    code = models.CharField(_("code"), max_length=9, unique=True, default=new_code)
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164"))
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    marketing_sms = models.BooleanField(_("SMS marketing"), default=False)
    marketing_sms_changed_at = models.DateTimeField(null=True, blank=True)
    marketing_sms_changed_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marketing_email = models.BooleanField(_("email marketing"), default=False)
    marketing_email_changed_at = models.DateTimeField(null=True, blank=True)
    marketing_email_changed_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_limit_minor = models.BigIntegerField(_("credit limit"), default=0)
    home_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("home store")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # Search columns, derived from the above by ``customers.services`` on every write:
    # the name case- and accent-folded, and the phone's digits as people type them.
    search_name = models.CharField(max_length=120, blank=True)
    search_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(credit_limit_minor__gte=0), name="customer_credit_limit_gte_0"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="customer_phone_unique"
            ),
            models.UniqueConstraint(
                fields=["email"], condition=~Q(email=""), name="customer_email_unique"
            ),
            models.CheckConstraint(
                condition=Q(marketing_sms=False) | ~Q(phone=""), name="customer_sms_needs_phone"
            ),
            models.CheckConstraint(
                condition=Q(marketing_email=False) | ~Q(email=""),
                name="customer_email_consent_needs_email",
            ),
        ]
        # Names starting with a text, in order: 20 rows read for a page of 20.
        indexes: ClassVar = [
            models.Index(fields=["search_name", "id"], name="customer_search_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class NameKey(models.Model):
    """Short search keys of a customer's name (words, CJK pairs): see ``lib.text.name_keys``.

    Trigram indexes cannot answer queries of one or two characters; these rows can, by an
    indexed prefix range, on both database engines.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=20)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["key", "customer"], name="namekey_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class Note(models.Model):
    """A dated entry in the customer's timeline, with its author."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        COMPLAINT = "complaint", _("Complaint")
        COMPLIMENT = "compliment", _("Compliment")
        TIER = "tier", _("Tier")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField(_("text"))
    author = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:40]}"


class Card(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    token = models.CharField(max_length=64, unique=True, default=new_token)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self) -> str:
        return self.token[:6]

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/c/{self.token}"
