"""Forms of the shop's set-up pages: products, payment methods, plans and bonus rules,
staff, stores, counters and API tokens. Amounts are typed in the major unit and cleaned
to minor units (``MoneyField``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product
from prepaid.staff.models import Role, Store
from prepaid.web.fields import MoneyField


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    unit = forms.CharField(label=_("Unit"), max_length=20, help_text=_("gallon, litre, kg, piece…"))
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        min_value=0,
        max_digits=14,
        decimal_places=4,
        help_text=_("Up to four decimals, e.g. 0.35 or 0.349"),
    )
    sku = forms.CharField(label=_("SKU"), max_length=40, required=False)
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=32767,
        initial=0,
        help_text=_("Order of the buttons at the counter"),
    )
    colour = forms.CharField(
        label=_("Colour"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    active = forms.BooleanField(label=_("Sold at the counter"), required=False, initial=True)


class PaymentMethodForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    requires_reference = forms.BooleanField(
        label=_("Ask for a reference (slip or transaction number)"), required=False
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=0)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. 100 → +10"))
    amount = MoneyField(label=_("Customer pays"), min_value=Decimal("0.01"), max_digits=14)
    bonus = MoneyField(label=_("Bonus"), min_value=0, max_digits=14, initial=0)
    gift_points = forms.IntegerField(
        label=_("Gift points"), min_value=0, max_value=10**9, initial=0, required=False
    )
    gift_coupon = MoneyField(
        label=_("Gift coupon"),
        min_value=0,
        max_digits=14,
        initial=0,
        required=False,
        help_text=_("An amount off a later sale, for this customer only; 0: none"),
    )
    gift_coupon_days = forms.IntegerField(
        label=_("Gift coupon valid for (days)"),
        min_value=1,
        max_value=3650,
        initial=30,
        required=False,
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=0)
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


class PackageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("e.g. 10 refills"))
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.all())
    also = forms.ModelMultipleChoiceField(
        label=_("Also for"),
        queryset=Product.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Other products its uses are good for (any water type, say)"),
    )
    count = forms.IntegerField(label=_("Uses"), min_value=1, max_value=10_000, initial=10)
    bonus_count = forms.IntegerField(
        label=_("Free uses"),
        min_value=0,
        max_value=10_000,
        initial=0,
        help_text=_("Buy 10 get 1: 10 uses and 1 free use"),
    )
    price = MoneyField(label=_("Customer pays"), min_value=0, max_digits=14)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("From the purchase. Empty: no end"),
    )
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


class PassForm(forms.Form):
    """A time pass: uses of a product (or of every product) for a number of days, with
    an optional cap per day and per week."""

    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("e.g. Unlimited refills, 30 days")
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.all(),
        required=False,
        empty_label=_("Every product"),
    )
    price = MoneyField(label=_("Customer pays"), min_value=Decimal("0.01"), max_digits=14)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=3650, initial=30,
        help_text=_("From the purchase"),
    )  # fmt: skip
    max_per_day = forms.IntegerField(
        label=_("At most a day"), min_value=1, max_value=10_000, required=False,
        help_text=_("Empty: no cap"),
    )  # fmt: skip
    max_per_week = forms.IntegerField(
        label=_("At most a week"), min_value=1, max_value=10_000, required=False,
        help_text=_("Monday to Sunday. Empty: no cap"),
    )  # fmt: skip
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)


class TierForm(forms.Form):
    """A member tier: from which figure, what it takes off (overall, or per product),
    and what it multiplies a top-up's bonus by. One percent field per product: empty
    means the tier's overall discount."""

    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("e.g. Gold"))
    threshold = MoneyField(
        label=_("From"),
        min_value=Decimal("0.01"),
        max_digits=14,
        help_text=_("Paid in (or spent, as the settings say) since joining or in 12 months"),
    )
    discount = forms.DecimalField(
        label=_("Discount (%)"), min_value=0, max_value=100, decimal_places=2, initial=0
    )
    bonus_multiplier = forms.DecimalField(
        label=_("Bonus multiplier"),
        min_value=0,
        max_value=10,
        decimal_places=2,
        initial=1,
        help_text=_("A top-up's bonus times this: 1.5 gives half as much again"),
    )
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"),
        min_value=0,
        max_value=10,
        decimal_places=2,
        initial=1,
        required=False,
        help_text=_("The points a sale earns times this"),
    )
    gift_coupon = MoneyField(
        label=_("Welcome coupon"),
        min_value=0,
        max_digits=14,
        required=False,
        help_text=_("An amount off for a customer who moves up into this tier; empty: none"),
    )
    gift_coupon_days = forms.IntegerField(
        label=_("Welcome coupon valid for (days)"),
        min_value=1,
        max_value=3650,
        initial=30,
        required=False,
    )

    def __init__(self, *args: Any, products: list[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        for product in products:
            self.fields[f"product_{product.pk}"] = forms.DecimalField(
                label=_("%(product)s (%%)") % {"product": product.name},
                min_value=0,
                max_value=100,
                decimal_places=2,
                required=False,
                help_text=_("Empty: the tier's discount"),
            )

    def product_rates(self) -> dict[Product, int]:
        """The products given a discount of their own, in basis points."""
        rates = {}
        for product in self.products:
            value = self.cleaned_data.get(f"product_{product.pk}")
            if value is not None:
                rates[product] = int(value * 100)
        return rates


class BonusRuleForm(forms.Form):
    every = MoneyField(label=_("For every"), min_value=Decimal("0.01"), max_digits=14)
    bonus = MoneyField(label=_("Bonus"), min_value=Decimal("0.01"), max_digits=14)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class StaffForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    stores = forms.ModelMultipleChoiceField(
        label=_("Works in"),
        queryset=Store.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    pin = forms.CharField(
        label=_("New PIN"),
        required=False,
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
        help_text=_("4 to 8 digits, for the counter. Leave empty to keep the current one."),
    )
    username = forms.CharField(
        label=_("Back-office user name"),
        required=False,
        max_length=150,
        help_text=_("Owners, managers and accountants sign in with a password."),
    )
    password = forms.CharField(
        label=_("New password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class StoreForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    active = forms.BooleanField(label=_("Open"), required=False, initial=True)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("What uses it, e.g. Website top-ups")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(active=True),
        required=False,
        empty_label=_("The first store"),
    )
