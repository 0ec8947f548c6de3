"""Customers, their cards and notes.

A customer is known by a neutral code (never the database id); personal data hangs off
the customer. A card carries a secret token whose QR encodes ``SITE_URL/c/<token>``.
Balances are not stored here: they are ledger accounts owned by the customer.
Every write goes through ``customers.services``, which keeps the search columns right.

Personal data is sealed (``lib.sealing``): the phone, e-mail, address, birthday and notes
are one sealed value (``personal``) under the customer's own data key (``sealed_key``,
wrapped by the shop's key), read and set through the properties of the same names. The
phone and e-mail are found through blind indexes (``phone_index``, ``phone_tail``,
``email_index``, ``email_local``). A card's token is kept as a digest (to find it) and
sealed (to print it again); a note's text is sealed too. The name stays plain: it is
what a cashier searches by, and the customer code is what the world outside sees.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prepaid.lib import sealing
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
    # The customer's data key, wrapped by the shop's key (``lib.sealing``); empty once
    # erased, which leaves everything sealed with it unreadable.
    sealed_key = models.TextField(blank=True)
    personal = models.TextField(blank=True, help_text="sealed JSON: phone, email, …")
    # Blind indexes (HMAC under the shop's key): the E.164 phone, its last four digits,
    # the e-mail address and the part before its "@". NULL when there is none, so the
    # unique indexes need no condition (SQLite uses a partial index only for queries
    # that repeat its condition).
    phone_index = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    phone_tail = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    email_index = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    email_local = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
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
    # Messages (docs/messages.md): the language they are written in (empty: the shop's),
    # whether receipts and account notices go by e-mail (transactional: on until the
    # customer or the shop turns them off), and the balance below which a notice goes
    # (empty: the shop's default).
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text=_("For messages. Empty: the shop's language"),
    )
    email_receipts = models.BooleanField(_("receipts by email"), default=True)
    low_balance_minor = models.BigIntegerField(_("low-balance notice below"), null=True, blank=True)
    home_store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("home store")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # The name case- and accent-folded, derived by ``customers.services`` on every write.
    search_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(credit_limit_minor__gte=0), name="customer_credit_limit_gte_0"
            ),
            models.UniqueConstraint(fields=["phone_index"], name="customer_phone_unique"),
            models.UniqueConstraint(fields=["email_index"], name="customer_email_unique"),
            models.CheckConstraint(
                condition=Q(marketing_sms=False) | Q(phone_index__isnull=False),
                name="customer_sms_needs_phone",
            ),
            models.CheckConstraint(
                condition=Q(marketing_email=False) | Q(email_index__isnull=False),
                name="customer_email_consent_needs_email",
            ),
        ]
        indexes: ClassVar = [
            # Names starting with a text, in order: 20 rows read for a page of 20.
            models.Index(fields=["search_name", "id"], name="customer_search_name"),
            models.Index(fields=["phone_tail"], name="customer_phone_tail"),
            models.Index(fields=["email_local"], name="customer_email_local"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.erased_at is None:
            self.data_key()  # every customer has one, from the start
        super().save(*args, **kwargs)

    # -- personal data, sealed --------------------------------------------------------

    # The longest each may be (the forms, the API and the import hold to these; they
    # were the columns' sizes before the data was sealed).
    LONGEST: ClassVar[dict[str, int]] = {"name": 120, "phone": 20, "email": 254, "address": 255}

    _data_key: bytes | None = None
    _personal: dict[str, str] | None = None

    def data_key(self) -> bytes:
        """The customer's data key, made on first need (a new customer)."""
        if self.erased_at is not None:
            raise sealing.Unreadable("erased")
        if self._data_key is None:
            if self.sealed_key:
                self._data_key = sealing.unwrap(self.sealed_key, self.code)
            else:
                self._data_key = sealing.new_data_key()
                self.sealed_key = sealing.wrap(self._data_key, self.code)
        return self._data_key

    def seal(self, plain: str, what: str) -> str:
        """``plain`` sealed with the customer's key, bound to the customer and ``what``."""
        return sealing.seal(self.data_key(), plain.encode(), f"{self.code}:{what}")

    def unseal(self, sealed: str, what: str) -> str:
        """What ``seal`` sealed; ``Unreadable`` once the customer is erased."""
        if not self.sealed_key or self.erased_at is not None:
            raise sealing.Unreadable(what)
        return sealing.unseal(self.data_key(), sealed, f"{self.code}:{what}").decode()

    def _values(self) -> dict[str, str]:
        if self._personal is None:
            readable = self.personal and self.sealed_key and self.erased_at is None
            self._personal = json.loads(self.unseal(self.personal, "personal")) if readable else {}
        return self._personal

    def _set(self, name: str, value: str) -> None:
        values = {**self._values(), name: value}
        self._personal = {key: text for key, text in values.items() if text}
        for column, sealed in sealed_columns(self.code, self.data_key(), self._personal).items():
            setattr(self, column, sealed)

    @property
    def phone(self) -> str:
        return self._values().get("phone", "")

    @phone.setter
    def phone(self, value: str) -> None:
        self._set("phone", value)

    @property
    def email(self) -> str:
        return self._values().get("email", "")

    @email.setter
    def email(self, value: str) -> None:
        self._set("email", value)

    @property
    def address(self) -> str:
        return self._values().get("address", "")

    @address.setter
    def address(self, value: str) -> None:
        self._set("address", value)

    @property
    def notes(self) -> str:
        return self._values().get("notes", "")

    @notes.setter
    def notes(self, value: str) -> None:
        self._set("notes", value)

    @property
    def birthday(self) -> dt.date | None:
        day = self._values().get("birthday")
        return dt.date.fromisoformat(day) if day else None

    @birthday.setter
    def birthday(self, value: dt.date | None) -> None:
        self._set("birthday", value.isoformat() if value else "")

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._personal = None
        self._data_key = None


def sealed_columns(code: str, data_key: bytes, values: dict[str, str]) -> dict[str, str | None]:
    """The columns that keep a customer's personal ``values`` (phone, email, address,
    birthday, notes; empty ones left out): the sealed JSON and the blind indexes. One
    function for the model, the bulk registration and the migration that sealed them."""
    phone, email = values.get("phone", ""), values.get("email", "")
    plain = json.dumps(values, sort_keys=True, ensure_ascii=False).encode()
    return {
        "personal": sealing.seal(data_key, plain, f"{code}:personal"),
        "phone_index": sealing.blind("phone", phone) or None,
        "phone_tail": sealing.blind("tail", phone.lstrip("+")[-4:]) or None,
        "email_index": sealing.blind("email", email) or None,
        "email_local": sealing.blind("local", email.partition("@")[0]) or None,
    }


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
    sealed_text = models.TextField(help_text="sealed with the customer's key")
    author = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:40]}"

    @property
    def text(self) -> str:
        """The note, or nothing once the customer is erased."""
        try:
            return self.customer.unseal(self.sealed_text, "note")
        except sealing.Unreadable:
            return ""

    @text.setter
    def text(self, value: str) -> None:
        self.sealed_text = self.customer.seal(value, "note")


class Card(models.Model):
    """A card's token is its secret: kept as a digest to find it by (``lib.sealing.digest``)
    and sealed with the customer's key to print the card again; ``hint`` is its first
    six characters, for telling cards apart in the audit trail."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="cards")
    token_digest = models.CharField(max_length=64, unique=True)
    sealed_token = models.TextField(blank=True)
    hint = models.CharField(max_length=6, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self) -> str:
        return self.hint

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.token_digest:
            self.token = new_token()
        super().save(*args, **kwargs)

    @property
    def token(self) -> str:
        """The card's secret (empty once the customer is erased)."""
        try:
            return self.customer.unseal(self.sealed_token, f"card:{self.token_digest}")
        except sealing.Unreadable:
            return ""

    @token.setter
    def token(self, value: str) -> None:
        self.token_digest = sealing.digest(value)
        self.hint = value[:6]
        self.sealed_token = self.customer.seal(value, f"card:{self.token_digest}")

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/c/{self.token}"


class CardBatch(models.Model):
    """A run of pre-printed cards generated in the back office (Card stock): their QR
    codes point at nobody until a cashier links one to a customer."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    size = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("card batch")
        verbose_name_plural = _("card batches")

    def __str__(self) -> str:
        return f"#{self.pk}"


class BlankCard(models.Model):
    """A pre-printed card not linked yet: its token as a digest (found by it, like a
    card's) and sealed under the shop's key (``sealing.seal_record``: it belongs to no
    person) to print its sheet again. Linking makes the customer's ``Card`` with the
    same token, marks this one used (``card``) and forgets its sealed token: from then
    on the token is the customer's, sealed under their key, and goes with their
    erasure. A blank holds no personal data."""

    batch = models.ForeignKey(CardBatch, on_delete=models.PROTECT, related_name="cards")
    token_digest = models.CharField(max_length=64, unique=True)
    sealed_token = models.TextField(blank=True)  # emptied once linked: the card keeps it
    hint = models.CharField(max_length=6)
    used_at = models.DateTimeField(null=True, blank=True)
    card = models.OneToOneField(
        Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="blank"
    )

    class Meta:
        verbose_name = _("pre-printed card")
        verbose_name_plural = _("pre-printed cards")

    def __str__(self) -> str:
        return self.hint

    @property
    def token(self) -> str:
        return sealing.open_record(self.sealed_token) if self.sealed_token else ""

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/c/{self.token}"


class KioskPin(models.Model):
    """A customer's PIN for the shop's self-service kiosk (docs/kiosk.md): optional,
    hashed with Django's password hashers (never kept, never shown), set by the customer
    on their own page or by staff. ``failures``: wrong PINs in a row, on any kiosk; the
    fifth sets ``locked_at``, and the kiosk then refuses the customer until staff
    unlock them or they set a new PIN (``customers.pins``)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="kiosk_pin")
    pin_hash = models.CharField(max_length=128)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("kiosk PIN")
        verbose_name_plural = _("kiosk PINs")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.failures}"
