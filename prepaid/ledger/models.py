"""The ledger: accounts and immutable transfers between them (TigerBeetle's shape).

Units
    Every amount is a positive ``int`` of the business currency's minor unit (or of a
    counted unit, for punch cards). Never a float, never a Decimal, below the forms.

Sign convention
    A transfer moves ``amount`` from its debit account to its credit account. A customer
    account is a liability of the business: its balance is credits − debits. Money a
    customer pays in is credited to their wallet; a sale debits it.

What is cached
    Customer accounts (wallet, bonus…) carry ``debits_posted`` and ``credits_posted`` and a
    ``floor`` (0, or −credit limit), and a CHECK constraint makes the database refuse a
    balance below the floor. Each transfer keeps the balance it left on each customer
    account it moved (``debit_balance_after``, ``credit_balance_after``): an account's
    balance at any moment, and what was owed at the end of any day, are read from the
    transfers of that moment alone (``prepaid verify`` checks they run true). House
    accounts (a store's cash, revenue, promotion…) have no floor and keep no cached
    totals — every sale would otherwise lock the same row — so their balances are sums
    over indexed transfers.

Who writes
    Only ``prepaid.ledger.services``. Transfers and batches are immutable: triggers refuse
    UPDATE and DELETE (see ``immutability.py``); a mistake is corrected by a reversal.

Exactly once
    Transfers commit together in a ``Batch`` whose ``key`` is chosen by the client (the
    idempotency key) and is unique forever.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from prepaid.customers.models import Customer
from prepaid.lib.money import MAX_TOTAL
from prepaid.staff.models import ApiToken, Device, Staff, Store


class PaymentMethod(models.Model):
    """A way money reaches the business: cash, card terminal, a mobile wallet…"""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60)
    active = models.BooleanField(_("active"), default=True)
    requires_reference = models.BooleanField(
        _("requires a reference"),
        default=False,
        help_text=_("The cashier must enter the terminal slip or transaction number"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering: ClassVar = ["position", "name"]
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")

    # The methods every new shop starts with: stored in English, shown translated.
    DEFAULTS: ClassVar = (
        ("cash", gettext_noop("Cash")),
        ("card", gettext_noop("Card")),
        ("mobile", gettext_noop("Mobile payment")),
    )

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language when it is a default name ("Cash"…); a name
        the owner typed is shown as typed, even one that happens to be a word the
        catalogues translate."""
        if any(self.name == name for _code, name in self.DEFAULTS):
            return gettext(self.name)
        return self.name


class Account(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", _("Paid balance")
        BONUS = "bonus", _("Bonus balance")
        PAYMENT = "payment", _("Payments received")
        REVENUE = "revenue", _("Revenue")
        PROMOTION = "promotion", _("Promotion")
        OPENING = "opening", _("Opening balances")
        ADJUSTMENT = "adjustment", _("Adjustments")
        BREAKAGE = "breakage", _("Breakage")
        # Punch cards (prepaid.programs): the counts a customer holds on one card, the
        # store's counterpart the counts were issued from and return to, and the money
        # paid for counts not used yet (recognised as revenue count by count).
        UNITS = "units", _("Punch card counts")
        ISSUED = "issued", _("Counts issued")
        DEFERRED = "deferred", _("Paid for counts not used yet")
        # Points (prepaid.sales.points): a customer's points, in the unit "pt", issued
        # from and returned to the store's ISSUED account of that unit.
        POINTS = "points", _("Points")

    CUSTOMER_KINDS: ClassVar = (Kind.WALLET, Kind.BONUS)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT)
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.PROTECT
    )
    unit = models.CharField(max_length=12, help_text="ISO 4217 code or a counted unit")
    debits_posted = models.BigIntegerField(default=0)
    credits_posted = models.BigIntegerField(default=0)
    floor = models.BigIntegerField(
        null=True, blank=True, help_text="Lowest balance allowed; null for house accounts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(floor__isnull=True)
                | Q(credits_posted__gte=F("debits_posted") + F("floor")),
                name="account_balance_not_below_floor",
            ),
            models.CheckConstraint(
                condition=Q(debits_posted__gte=0, credits_posted__gte=0),
                name="account_totals_not_negative",
            ),
            models.CheckConstraint(  # no sum of allowed amounts can overflow 64 bits
                condition=Q(debits_posted__lte=MAX_TOTAL, credits_posted__lte=MAX_TOTAL),
                name="account_totals_bounded",
            ),
            models.CheckConstraint(
                condition=Q(floor__isnull=False) | Q(debits_posted=0, credits_posted=0),
                name="account_house_keeps_no_totals",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(floor__isnull=False),
                name="account_customer_has_floor",
            ),
            models.UniqueConstraint(
                fields=["kind", "customer", "unit"],
                condition=Q(customer__isnull=False),
                name="account_one_per_customer_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "store", "payment_method", "unit"],
                condition=Q(customer__isnull=True, payment_method__isnull=False),
                name="account_one_per_store_method",
            ),
            models.UniqueConstraint(
                fields=["kind", "store", "unit"],
                condition=Q(customer__isnull=True, payment_method__isnull=True),
                name="account_one_per_store_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.customer.code if self.customer else (self.store.name if self.store else "")
        method = f" {self.payment_method.code}" if self.payment_method else ""
        return f"{self.kind}{method}:{owner}"

    @property
    def is_cached(self) -> bool:
        """Customer accounts keep cached totals and a floor; house accounts do not."""
        return self.floor is not None

    @property
    def cached_balance(self) -> int:
        """credits − debits as last loaded; use ``services.balance`` for a fresh figure."""
        return self.credits_posted - self.debits_posted


class Batch(models.Model):
    """Transfers that commit together, under a client-chosen key unique forever."""

    class Code(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")
        OPENING = "opening", _("Opening balance")
        EXPIRY = "expiry", _("Expiry")
        PACKAGE = "package", _("Punch card or pass sold")
        REDEMPTION = "redemption", _("Uses redeemed")
        POINTS = "points", _("Points redeemed")

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64, help_text="Digest of the request")
    code = models.CharField(max_length=20, choices=Code.choices)
    store = models.ForeignKey(Store, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT)
    device = models.ForeignKey(
        Device,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The counter it was made at, if any",
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    transfer_count = models.PositiveIntegerField()
    note = models.CharField(max_length=255, blank=True)
    reference = models.CharField(
        max_length=100, blank=True, db_default="", help_text="Payment reference (slip number…)"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints: ClassVar = [
            # Every batch names who posted it, but expiry, which the shop posts on a
            # schedule (``prepaid expire``).
            models.CheckConstraint(
                condition=Q(staff__isnull=False) | Q(api_token__isnull=False) | Q(code="expiry"),
                name="batch_has_actor",
            ),
            models.CheckConstraint(condition=Q(transfer_count__gt=0), name="batch_not_empty"),
        ]
        indexes: ClassVar = [models.Index(fields=["customer", "-id"])]

    def __str__(self) -> str:
        return f"{self.code} #{self.pk}"


class Transfer(models.Model):
    class Code(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        BONUS = "bonus", _("Bonus")
        SALE = "sale", _("Sale")
        REFUND = "refund", _("Refund")
        FORFEIT = "forfeit", _("Bonus forfeited")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")
        OPENING = "opening", _("Opening balance")
        EXPIRY = "expiry", _("Expiry")
        PACKAGE = "package", _("Punch card paid")
        ISSUE = "issue", _("Counts issued")
        REDEEM = "redeem", _("Count used")
        RECOGNISE = "recognise", _("Revenue of a count used")
        POINTS = "points", _("Points earned")
        POINTS_USED = "points_used", _("Points used")
        RETURN = "return", _("Counts returned")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="transfers")
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    code = models.CharField(max_length=20, choices=Code.choices)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    # The balance this transfer left on each side that is a customer account (None for a
    # house account): credits − debits of that account up to and including this transfer.
    debit_balance_after = models.BigIntegerField(null=True, blank=True)
    credit_balance_after = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")),
                name="transfer_between_two_accounts",
            ),
            models.CheckConstraint(  # as its batch: expiry is posted by the shop itself
                condition=Q(staff__isnull=False) | Q(api_token__isnull=False) | Q(code="expiry"),
                name="transfer_has_actor",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["store", "created_at"]),
            # Reports read the transfers of a span of time, every store's
            # (``reports.flows.liability_change``): without it, a scan of the ledger.
            models.Index(fields=["created_at"], name="transfer_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.amount} {self.debit_account_id}→{self.credit_account_id}"
