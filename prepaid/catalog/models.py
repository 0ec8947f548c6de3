"""What the shop sells, at which price, and how top-ups are rewarded.

Prices are Decimals in the currency's major unit (up to 4 places: 0.3490 a gallon); money
amounts of plans and rules are integers of the minor unit, like everything in the ledger.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.customers.models import Customer
from prepaid.staff.models import ApiToken, Staff

COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour such as #1e88e5."))


class Product(models.Model):
    """A product sold by volume, weight, count or amount: "Alkaline water, per gallon".

    ``unit_price`` is a Decimal in the major unit with up to 4 places (0.3490 a gallon);
    a sale snapshots it, so a later price change never rewrites history. ``position``
    orders the buttons at the counter; ``colour`` paints them.
    """

    name = models.CharField(_("name"), max_length=120)
    sku = models.CharField(_("SKU"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("gallon, litre, kg, piece…"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    colour = models.CharField(_("colour"), max_length=7, blank=True, validators=[COLOUR])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["position", "name", "id"]
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


class PriceChange(models.Model):
    """A product's price from ``changed_at`` on: the price history, newest last."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=4)
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["product", "id"]
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")

    def __str__(self) -> str:
        return f"{self.product}: {self.unit_price}"


class TopUpPlan(models.Model):
    """A preset top-up at the counter: pay ``amount``, get ``bonus`` on top ("100 → +10")."""

    name = models.CharField(_("name"), max_length=60)
    amount_minor = models.BigIntegerField(_("amount"))
    bonus_minor = models.BigIntegerField(_("bonus"), default=0)
    # Gifts with the top-up (赠送积分、赠送卡券): points, and a coupon of an amount off
    # for this customer only, valid a number of days.
    gift_points = models.PositiveIntegerField(_("gift points"), default=0)
    gift_coupon_minor = models.BigIntegerField(_("gift coupon"), default=0)
    gift_coupon_days = models.PositiveIntegerField(_("gift coupon valid for (days)"), default=30)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering: ClassVar = ["position", "amount_minor", "id"]
        verbose_name = _("top-up plan")
        verbose_name_plural = _("top-up plans")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(condition=Q(bonus_minor__gte=0), name="plan_bonus_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class BonusRule(models.Model):
    """A bonus for custom amounts: every ``every`` paid earns ``bonus`` ("every 100 gets
    10": 250 earns 20). When several rules are active, the one that gives most applies."""

    every_minor = models.BigIntegerField(_("for every"))
    bonus_minor = models.BigIntegerField(_("bonus"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering: ClassVar = ["every_minor", "id"]
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(every_minor__gt=0), name="rule_every_positive"),
            models.CheckConstraint(condition=Q(bonus_minor__gt=0), name="rule_bonus_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.every_minor} → +{self.bonus_minor}"


class Tier(models.Model):
    """A member tier: customers whose deposits (or spending, as the shop chose) reach
    ``threshold_minor`` over their lifetime or the last twelve months are in it, and get
    ``discount_bp`` off what they buy (hundredths of a percent: 500 is 5%; a product of
    its own ``TierPrice`` overrides it) and their top-up bonus multiplied by
    ``bonus_multiplier``."""

    name = models.CharField(_("name"), max_length=60)
    threshold_minor = models.BigIntegerField(_("from"))
    discount_bp = models.PositiveIntegerField(_("discount"), default=0)
    bonus_multiplier = models.DecimalField(
        _("bonus multiplier"), max_digits=4, decimal_places=2, default=1
    )
    points_multiplier = models.DecimalField(
        _("points multiplier"), max_digits=4, decimal_places=2, default=1
    )
    # Whether it has discounts of its own on some products (``TierPrice``): a sale reads
    # them only then.
    priced = models.BooleanField(default=False)
    # A welcome coupon for a customer who moves up into it: an amount off, valid N days.
    gift_coupon_minor = models.BigIntegerField(_("welcome coupon"), default=0)
    gift_coupon_days = models.PositiveIntegerField(_("welcome coupon valid for (days)"), default=30)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["threshold_minor", "id"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(threshold_minor__gt=0), name="tier_threshold_positive"
            ),
            models.CheckConstraint(condition=Q(discount_bp__lte=10000), name="tier_discount_max"),
            models.CheckConstraint(
                condition=Q(bonus_multiplier__gte=0) & Q(bonus_multiplier__lte=10),
                name="tier_bonus_multiplier_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TierPrice(models.Model):
    """A tier's own discount on one product (instead of the tier's overall one)."""

    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    discount_bp = models.PositiveIntegerField(_("discount"))

    class Meta:
        verbose_name = _("tier discount on a product")
        verbose_name_plural = _("tier discounts on products")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tier", "product"], name="tier_price_once"),
            models.CheckConstraint(condition=Q(discount_bp__lte=10000), name="tier_price_max"),
        ]

    def __str__(self) -> str:
        return f"{self.tier_id}: {self.product_id}"


class CustomerTier(models.Model):
    """The tier a customer is in, since when, and the figure that put them there. One
    row per customer, written only when the tier changes (never by every posting)."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="tier_held"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="members")
    since = models.DateTimeField()
    qualifying_minor = models.BigIntegerField()

    class Meta:
        verbose_name = _("customer's tier")
        verbose_name_plural = _("customers' tiers")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tier_id}"
