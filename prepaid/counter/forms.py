"""The counter's forms. Each money form carries the idempotency key made when it was
rendered: a double click, a double Enter or a resubmitted page posts the same key."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from prepaid.catalog.models import Product, TopUpPlan
from prepaid.ledger.models import PaymentMethod
from prepaid.programs.models import Package
from prepaid.staff.models import Device, Staff, Store
from prepaid.web.fields import MoneyField

KEY = {"widget": forms.HiddenInput, "max_length": 64}


def new_key() -> str:
    return uuid.uuid4().hex


class EnrollForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("This browser is"),
        choices=Device.Kind.choices,
        initial=Device.Kind.COUNTER,
        widget=forms.RadioSelect,
        required=False,  # a counter, unless asked (the form had no choice before kiosks)
        help_text=_("A customer kiosk shows customers their balance after their card and PIN."),
    )
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.filter(active=True), empty_label=None
    )
    name = forms.CharField(label=_("Name of this counter"), max_length=60, initial=_("Counter 1"))

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or Device.Kind.COUNTER

    @classmethod
    def for_kind(cls, kind: str) -> EnrollForm:
        """The empty form, a kiosk's when ``kind`` asks for one (its sign-in link)."""
        if kind == Device.Kind.KIOSK:
            form = cls(initial={"kind": Device.Kind.KIOSK, "name": _("Kiosk 1")})
            form.fields["name"].label = _("Name of this kiosk")
            return form
        return cls()


class PinForm(forms.Form):
    pin = forms.CharField(
        label=_("PIN"),
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class SellForm(forms.Form):
    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(active=True), widget=forms.HiddenInput
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        max_value=Decimal("99999"),
        decimal_places=3,
        max_digits=8,
    )
    # "1": the quantity is uses of the customer's punch cards, not money from the balance.
    use_card = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Typed, or scanned from the coupon's QR (a USB scanner types the code, then Enter).
    coupon = forms.CharField(label=_("Coupon"), max_length=40, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        quantity = data.get("quantity")
        if data.get("use_card") and quantity is not None and quantity != quantity.to_integral():
            self.add_error("quantity", _("A punch card is used by whole uses."))
        if data.get("use_card") and data.get("coupon"):
            self.add_error("coupon", _("A coupon takes money off a sale, not a punch card use."))
        return data


class PackageForm(forms.Form):
    """A punch card sold at the counter: which package, paid how."""

    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    package = forms.ModelChoiceField(
        label=_("Punch card"),
        queryset=Package.objects.filter(active=True).select_related("product"),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    method = forms.ModelChoiceField(
        label=_("Paid by"),
        queryset=PaymentMethod.objects.filter(active=True),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Beside the top-up form on one page: its own element ids.
        kwargs.setdefault("auto_id", "package_%s")
        super().__init__(*args, **kwargs)
        first_method(self)


def first_method(form: forms.Form) -> None:
    """A fresh form starts on the shop's first payment method."""
    methods = form.fields["method"]
    assert isinstance(methods, forms.ModelChoiceField)
    first = methods.queryset.first() if methods.queryset is not None else None
    if first is not None and not form.is_bound:
        form.initial.setdefault("method", first.pk)


class TopUpForm(forms.Form):
    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=TopUpPlan.objects.filter(active=True),
        required=False,
        widget=forms.RadioSelect,
    )
    amount = MoneyField(label=_("Amount"), required=False, min_value=Decimal("0.01"), max_digits=14)
    method = forms.ModelChoiceField(
        label=_("Paid by"),
        queryset=PaymentMethod.objects.filter(active=True),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first_method(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("plan") and not data.get("amount"):
            self.add_error("amount", _("Choose a plan or enter an amount."))
        return data


class UndoForm(forms.Form):
    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    reason = forms.CharField(label=_("Reason"), max_length=255)


class NewCustomerForm(forms.Form):
    """A walk-in customer, registered at the counter: what a cashier asks at the till.
    The consent rules are the services' (SMS needs a phone, e-mail consent an e-mail)."""

    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    name = forms.CharField(label=_("Name"), max_length=120)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    marketing_sms = forms.BooleanField(label=_("Agrees to marketing by SMS"), required=False)
    marketing_email = forms.BooleanField(label=_("Agrees to marketing by email"), required=False)
    notes = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    card = forms.CharField(required=False, widget=forms.HiddenInput, max_length=300)

    @classmethod
    def from_search(cls, text: str, card: str = "") -> NewCustomerForm:
        """The form filled in with what was typed in the search box: digits as the
        phone, an address as the e-mail, anything else as the name."""
        text = text.strip()
        digits = [ch for ch in text if ch.isdigit()]
        if "@" in text:
            initial = {"email": text}
        elif digits and all(ch.isdigit() or ch in " +-()." for ch in text):
            initial = {"phone": text}
        else:
            initial = {"name": text}
        return cls(initial={"key": new_key(), "card": card, **initial})


class LinkCardForm(forms.Form):
    """A pre-printed card scanned into the customer's panel: it becomes their card."""

    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    card = forms.CharField(label=_("Scan a pre-printed card"), max_length=300)


class ManagerRefundForm(forms.Form):
    """A refund (cash out) at the counter, with a manager at the cashier's side: the
    manager picks their name and types their PIN on the same screen."""

    key = forms.CharField(**KEY)  # type: ignore[arg-type]
    amount = MoneyField(label=_("Amount"), min_value=Decimal("0.01"), max_digits=18)
    method = forms.ModelChoiceField(
        label=_("Paid back by"),
        queryset=PaymentMethod.objects.filter(active=True),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)
    close = forms.BooleanField(label=_("Then close the account"), required=False)
    manager = forms.ModelChoiceField(label=_("Manager"), queryset=Staff.objects.none())
    pin = forms.CharField(
        label=_("Manager's PIN"),
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, managers: list[Staff], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first_method(self)
        field = self.fields["manager"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Staff.objects.filter(pk__in=[m.pk for m in managers]).order_by("name")
