"""Stored-value programs beside money: punch cards (prepaid counts of a product).

A **package** is what the shop offers ("10 × 5-gallon refill for ₱250, valid 90 days,
buy 10 get 1"); a **punch card** is one package bought by one customer. Its counts are a
ledger account of their own (``Account.Kind.UNITS``, unit ``pc<id>``) floored at zero by
the database like a wallet, so a count can never be used twice; the money paid for it
waits in the store's ``DEFERRED`` account and becomes revenue count by count as the
card is used (``PunchUse``; ``services``).
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger.models import Account, Batch
from prepaid.staff.models import Store


class Package(models.Model):
    """A punch card the shop sells: ``count`` uses of ``product`` and ``bonus_count``
    more for free, for ``price_minor``, valid ``valid_days`` from the purchase (none:
    no end)."""

    name = models.CharField(_("name"), max_length=80)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="packages", verbose_name=_("product")
    )
    count = models.PositiveIntegerField(_("uses"), validators=[MinValueValidator(1)])
    bonus_count = models.PositiveIntegerField(
        _("free uses"), default=0, help_text=_("Buy 10 get 1: 10 uses and 1 free use")
    )
    price_minor = models.BigIntegerField(_("price"))
    valid_days = models.PositiveIntegerField(
        _("valid for (days)"), null=True, blank=True, help_text=_("Empty: no end")
    )
    active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["position", "name", "id"]
        verbose_name = _("punch card package")
        verbose_name_plural = _("punch card packages")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(count__gte=1), name="package_count_positive"),
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


def unit_of(card_id: int) -> str:
    return f"pc{card_id}"
