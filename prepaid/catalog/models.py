"""What the shop sells, at which price."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    """A product sold by volume, weight, count or amount: "Alkaline water, per gallon".

    ``unit_price`` is a Decimal in the major unit with up to 4 places (0.3490 a gallon);
    a sale snapshots it, so a later price change never rewrites history.
    """

    name = models.CharField(_("name"), max_length=120)
    sku = models.CharField(_("SKU"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("gallon, litre, kg, piece…"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="product_price_not_negative"
            ),
            models.UniqueConstraint(
                fields=["sku"], condition=~Q(sku=""), name="product_sku_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name
