"""Stored-value programs beside money: punch cards (prepaid counts of a product) and
time passes (unlimited uses for a time, with an optional cap per day or week).

A **package** is what the shop offers: a count ("10 × 5-gallon refill for ₱250, valid 90
days, buy 10 get 1") or a time ("unlimited 5-gallon refills for 30 days, at most 2 a
day"). A **punch card** is a count package bought by one customer. Its counts are a
ledger account of their own (``Account.Kind.UNITS``, unit ``pc<id>``) floored at zero by
the database like a wallet, so a count can never be used twice; the money paid for it
waits in the store's ``DEFERRED`` account and becomes revenue count by count as the
card is used (``PunchUse``; ``services``). A **pass** is a time package bought by one
customer: its ledger account (unit ``ps<id>``) counts the uses made (``PassUse``), the
cap is checked under that account's row lock, and its price waits in ``DEFERRED`` until
the pass ends (``services.earn``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger.models import Account, Batch
from prepaid.staff.models import Store


class Package(models.Model):
    """What the shop sells beside money. A punch card (``COUNT``): ``count`` uses of
    ``product`` and ``bonus_count`` more for free, for ``price_minor``, valid
    ``valid_days`` from the purchase (none: no end). A pass (``TIME``): any number of
    uses of ``product`` (none: of every product) for ``valid_days``, at most
    ``max_per_day`` a day and ``max_per_week`` a week (none: no cap)."""

    class Kind(models.TextChoices):
        COUNT = "count", _("Punch card")
        TIME = "time", _("Pass")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.COUNT)
    name = models.CharField(_("name"), max_length=80)
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="packages",
        verbose_name=_("product"),
    )
    also = models.ManyToManyField(
        Product,
        blank=True,
        related_name="+",
        verbose_name=_("also for"),
        help_text=_("Other products its uses are good for (a punch card)"),
    )
    count = models.PositiveIntegerField(_("uses"), default=0)
    bonus_count = models.PositiveIntegerField(
        _("free uses"), default=0, help_text=_("Buy 10 get 1: 10 uses and 1 free use")
    )
    price_minor = models.BigIntegerField(_("price"))
    valid_days = models.PositiveIntegerField(
        _("valid for (days)"), null=True, blank=True, help_text=_("Empty: no end")
    )
    max_per_day = models.PositiveIntegerField(
        _("at most a day"), null=True, blank=True, help_text=_("Empty: no cap")
    )
    max_per_week = models.PositiveIntegerField(
        _("at most a week"), null=True, blank=True, help_text=_("Empty: no cap")
    )
    active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["position", "name", "id"]
        verbose_name = _("punch card package")
        verbose_name_plural = _("punch card packages")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind="time") | (Q(count__gte=1) & Q(product__isnull=False)),
                name="package_count_positive",
            ),
            models.CheckConstraint(
                condition=Q(kind="count") | (Q(valid_days__isnull=False) & Q(price_minor__gt=0)),
                name="pass_has_days_and_price",
            ),
            models.CheckConstraint(
                condition=Q(price_minor__gte=0), name="package_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def uses(self) -> int:
        """Every use a card of this package holds, free ones included."""
        return self.count + self.bonus_count

    @property
    def is_pass(self) -> bool:
        return self.kind == self.Kind.TIME


class PunchCard(models.Model):
    """One package bought by one customer. What it still holds is its ledger account's
    balance; the name, product, uses and price are the package's at the purchase."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="punch_cards")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="cards")
    name = models.CharField(max_length=80)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    uses = models.PositiveIntegerField()
    price_minor = models.BigIntegerField()
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    account = models.OneToOneField(
        Account, null=True, on_delete=models.PROTECT, related_name="punch_card"
    )
    batch = models.OneToOneField(
        Batch, null=True, on_delete=models.PROTECT, related_name="punch_card"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    # What its uses (and an expiry) have made revenue so far: the sum of its ``PunchUse``
    # values whose batch was not reversed, kept as they post and are reversed (under the
    # card's row lock) so that a use need not add up the card's history; ``prepaid
    # verify`` checks it against that sum.
    recognised_minor = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("punch card")
        verbose_name_plural = _("punch cards")
        indexes: ClassVar = [
            models.Index(fields=["customer", "product"], name="punchcard_customer_product"),
            models.Index(fields=["expires_at"], name="punchcard_expires_at"),  # expiry
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_id})"

    @property
    def unit(self) -> str:
        """The ledger unit of this card's counts."""
        return unit_of(self.pk)


class PunchCardProduct(models.Model):
    """Another product a card's uses are good for, as its package said at the purchase."""

    card = models.ForeignKey(PunchCard, on_delete=models.CASCADE, related_name="also")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("punch card product")
        verbose_name_plural = _("punch card products")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["card", "product"], name="card_product_once")
        ]
        indexes: ClassVar = [models.Index(fields=["product", "card"], name="cardproduct_product")]

    def __str__(self) -> str:
        return f"{self.card_id}: {self.product_id}"


class PunchUse(models.Model):
    """What one redemption took from one card: ``count`` uses, worth ``value`` (money
    recognised as revenue). A use whose batch was reversed counts no more: what a card
    has recognised is the sum over its uses not reversed."""

    card = models.ForeignKey(PunchCard, on_delete=models.PROTECT, related_name="used")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="punch_uses")
    count = models.PositiveIntegerField()
    value = models.BigIntegerField()

    class Meta:
        verbose_name = _("punch card use")
        verbose_name_plural = _("punch card uses")

    def __str__(self) -> str:
        return f"{self.count} of card {self.card_id}"


class Pass(models.Model):
    """A time package bought by one customer: uses of ``product`` (none: any product)
    from ``starts_at`` until ``ends_at``, within its caps. Its account's balance is the
    number of uses made; the name, product, caps and price are the package's at the
    purchase. ``earned`` is the transaction that made its price revenue when it ended."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="passes")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="passes")
    name = models.CharField(max_length=80)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    max_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_per_week = models.PositiveIntegerField(null=True, blank=True)
    price_minor = models.BigIntegerField()
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    account = models.OneToOneField(
        Account, null=True, on_delete=models.PROTECT, related_name="time_pass"
    )
    batch = models.OneToOneField(
        Batch, null=True, on_delete=models.PROTECT, related_name="time_pass"
    )
    earned = models.OneToOneField(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="earned_pass"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        indexes: ClassVar = [
            models.Index(fields=["customer", "ends_at"], name="pass_customer_ends"),
            models.Index(fields=["ends_at"], name="pass_ends_at"),  # earning
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_id})"

    @property
    def unit(self) -> str:
        return pass_unit_of(self.pk)


class PassUse(models.Model):
    """What one redemption took under one pass: ``count`` uses on the shop's calendar
    ``day``. A use whose batch was reversed counts no more (for the caps either)."""

    time_pass = models.ForeignKey(Pass, on_delete=models.PROTECT, related_name="used")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="pass_uses")
    count = models.PositiveIntegerField()
    day = models.DateField()

    class Meta:
        verbose_name = _("pass use")
        verbose_name_plural = _("pass uses")
        indexes: ClassVar = [models.Index(fields=["time_pass", "day"], name="passuse_pass_day")]

    def __str__(self) -> str:
        return f"{self.count} under pass {self.time_pass_id}"


def unit_of(card_id: int) -> str:
    return f"pc{card_id}"


def pass_unit_of(pass_id: int) -> str:
    return f"ps{pass_id}"
