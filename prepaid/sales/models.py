"""What was sold in a sale batch: the ledger holds the money, these rows the story."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product
from prepaid.ledger.models import Batch


class SaleLine(models.Model):
    """One line of a sale, with the quantity, unit price and rounded amount as sold."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="sale_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    amount_minor = models.BigIntegerField(_("amount"))
    # The part of the amount paid from the bonus balance (the rest came from the paid
    # balance or credit): the sale's split, shared over its lines in proportion.
    from_bonus_minor = models.BigIntegerField(_("paid from bonus"), default=0)
    # What was taken off the line before it was charged (a coupon's share, later a
    # tier's): its price was ``amount_minor + discount_minor``. The amount stays what
    # was charged, so everything that sums sales sums money that moved.
    discount_minor = models.BigIntegerField(_("discount"), default=0)
    # The part of the discount the customer's tier took (the rest was a coupon's).
    tier_discount_minor = models.BigIntegerField(_("tier discount"), default=0)

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"
