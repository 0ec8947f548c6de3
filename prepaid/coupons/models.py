"""Coupons: a code that takes money off a sale.

A **coupon** is a code printed or sent to customers ("₱20 off", "10 % off", "one refill
free"), with the rules it is taken under: a minimum spend, the days it is valid, how
many times it may be used (once, by default) and by one customer. Coupons issued
together share a ``series`` label, so the shop can print or export them as a batch.

Taking a coupon is no ledger movement of its own: the shop simply charges less. The
sale's lines keep what was taken off each (``SaleLine.discount_minor``), and a
``CouponUse`` ties the coupon to the sale batch with the discount it gave. A use whose
sale was reversed counts no more: the coupon is free again (``services``).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch
from prepaid.staff.models import ApiToken, Staff


class Coupon(models.Model):
    """One code. ``value`` is minor units for ``amount``, a whole percent (1–100) for
    ``percent``, and the number of units given free for ``product``."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount off")
        PERCENT = "percent", _("Percent off")
        PRODUCT = "product", _("Free product")

    code = models.CharField(_("code"), max_length=9, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.BigIntegerField(_("value"))
    # For ``product``: the product given free. For the others: optional, the discount
    # applies to that product's lines only.
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons",
        verbose_name=_("product"),
    )
    min_spend_minor = models.BigIntegerField(_("minimum spend"), default=0)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    uses_allowed = models.PositiveIntegerField(
        _("uses"), null=True, blank=True, default=1, help_text=_("Empty: no limit")
    )
    per_customer = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, help_text=_("Empty: no limit")
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupons",
        verbose_name=_("only for"),
    )
    series = models.CharField(_("series"), max_length=80, blank=True, db_index=True)
    gift_of = models.ForeignKey(
        Batch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gift_coupons",
        help_text="The top-up whose plan gave it",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(value__gte=1), name="coupon_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__lte=100), name="coupon_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(kind="product") | Q(product__isnull=False),
                name="coupon_product_has_product",
            ),
            models.CheckConstraint(
                condition=Q(min_spend_minor__gte=0), name="coupon_min_spend_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponUse(models.Model):
    """A coupon taken on a sale: the sale batch, its customer and what it took off."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="uses")
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="coupon_uses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    discount_minor = models.BigIntegerField(_("discount"))

    class Meta:
        verbose_name = _("coupon use")
        verbose_name_plural = _("coupon uses")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["coupon", "batch"], name="coupon_use_once_a_sale"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["coupon", "customer"], name="couponuse_coupon_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} on {self.batch_id}"
